#!/usr/bin/env python3
# End-to-end check of RTN and per-Linear AWQ on all-MiniLM-L6-v2 sentence embeddings: mean cosine between
# the full-precision and the fake-quantized model's embeddings of fine_foods_test.csv.
#
# Regenerate (from this folder; Debian bookworm /usr/bin/python3 with python3-torch 1.13 + python3-numpy):
#
#   OMP_NUM_THREADS=1 /usr/bin/python3 embedding_cosines.py \
#       --model /path/to/all-MiniLM-L6-v2/hf --data /work/shared/data [--out .]
#
# Debian's default libblas.so.3 is the slow reference BLAS (~4 GFLOP/s here); the committed results used
# OpenBLAS unpacked from the Debian package libopenblas0-serial 0.3.21 (apt-get download; dpkg -x DIR), run as
#   LD_LIBRARY_PATH=DIR/usr/lib/x86_64-linux-gnu/openblas-serial OPENBLAS_NUM_THREADS=1 \
#   BLAS_NOTE="OpenBLAS 0.3.21 serial" OMP_NUM_THREADS=1 /usr/bin/python3 embedding_cosines.py ...
# (about 12 minutes on one shared core). Only float rounding differs between the two BLAS libraries.
#
# Writes embedding-cosines.json.
#
# Setup (all formulas are those of quant_reference.py in this folder, which this script imports):
#   quantized: every encoder Linear (query, key, value, attention.output.dense, intermediate.dense,
#     output.dense of the 6 layers = 36 Linears); never the embeddings, never the pooler (unused anyway).
#   b in {4, 3}, g = 128, zero point on, round half to even. Weights are fake-quantized (float32 W_hat).
#   RTN: W_hat = Q(W).
#   AWQ (generic per-Linear variant, no duo scaling, no folding): each Linear gets its own s from ITS OWN
#     input activations, collected from the FULL-precision model (hooks on every Linear, non-padding tokens
#     only) on the first 128 texts of fine_foods_train.csv; alpha grid i/20 (i = 0..19); then the clip
#     search on W diag(s) and X diag(s)^-1 (skipped for query and key); the runtime layer is
#     y = (x * inv_s) W_hat^T + b with inv_s = float32(1 / s) applied as an explicit multiply.
#   Embedding (as sentence-transformers does for this model): [CLS] + at most 126 word pieces + [SEP]
#     (max length 128, wordpiece_reference.py), token types 0, last hidden state, masked mean over
#     non-padding tokens, L2 normalisation. Forward = TinyBert (../text/make_tiny_bert.py), float32,
#     batches of texts sorted by length (padding masked with -1e9 before the softmax).
#   Diagnostic extra variant "awq_scale_only": the same AWQ scales, no clip search on any Linear.
#   Metric: cos(e_fp, e_q) per test text (dot product of unit vectors), mean / min / percentiles over the
#     1000 texts. Also the relative output error ||X (W_eff - W)^T||_F / ||X W^T||_F of every Linear on its
#     own calibration inputs (W_eff = W_hat diag(s)^-1 for AWQ), float64.
import argparse
import json
import os
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import numpy as np  # noqa: E402
import quant_reference as qr  # noqa: E402

LINEARS = ["attention.self.query", "attention.self.key", "attention.self.value",
           "attention.output.dense", "intermediate.dense", "output.dense"]


def get_module(root, dotted):
    m = root
    for part in dotted.split("."):
        m = m[int(part)] if part.isdigit() else getattr(m, part)
    return m


def set_module(root, dotted, new):
    parent, _, last = dotted.rpartition(".")
    setattr(get_module(root, parent), last, new)


def batches_by_length(encoded, max_tokens=4096, max_batch=64):
    order = sorted(range(len(encoded)), key=lambda i: (len(encoded[i]), i))
    out, cur = [], []
    for i in order:
        T = len(encoded[i])
        if cur and ((len(cur) + 1) * T > max_tokens or len(cur) >= max_batch):
            out.append(cur)
            cur = []
        cur.append(i)
    if cur:
        out.append(cur)
    return out


def pad(encoded, idx):
    import torch
    T = max(len(encoded[i]) for i in idx)
    ids = torch.zeros(len(idx), T, dtype=torch.long)
    mask = torch.zeros(len(idx), T, dtype=torch.long)
    for r, i in enumerate(idx):
        ids[r, :len(encoded[i])] = torch.tensor(encoded[i])
        mask[r, :len(encoded[i])] = 1
    return ids, mask


def collect_inputs(model, names, encoded):
    """FP inputs (non-padding tokens) of every named Linear, concatenated over batches (float32 numpy)."""
    import torch
    store = {n: [] for n in names}
    state = {}
    hooks = []
    for n in names:
        def hook(mod, inp, out, n=n):
            x = inp[0].detach()
            store[n].append(x[state["mask"]].clone())
        hooks.append(get_module(model, n).register_forward_hook(hook))
    try:
        with torch.no_grad():
            for idx in batches_by_length(encoded):
                ids, mask = pad(encoded, idx)
                state["mask"] = mask.bool()
                model(ids, mask, torch.zeros_like(ids))
    finally:
        for h in hooks:
            h.remove()
    return {n: torch.cat(v, 0).numpy().astype(np.float32) for n, v in store.items()}


def embed(model, encoded):
    import torch
    out = np.zeros((len(encoded), model.h * model.d), dtype=np.float32)
    with torch.no_grad():
        for idx in batches_by_length(encoded):
            ids, mask = pad(encoded, idx)
            hs, _ = model(ids, mask, torch.zeros_like(ids))
            m = mask.unsqueeze(-1).to(hs.dtype)
            e = (hs * m).sum(1) / m.sum(1).clamp(min=1e-9)
            e = e / e.norm(dim=1, keepdim=True).clamp(min=1e-12)
            out[idx] = e.numpy()
    return out


def make_qlin_class():
    import torch

    class QLin(torch.nn.Module):
        """fake-quantized Linear: y = (x * inv_s) W_hat^T + b (inv_s optional)."""

        def __init__(self, w_hat, bias, inv_s=None):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.from_numpy(np.ascontiguousarray(w_hat, np.float32)), requires_grad=False)
            self.bias = torch.nn.Parameter(bias.detach().clone(), requires_grad=False)
            self.inv_s = None if inv_s is None else torch.from_numpy(np.ascontiguousarray(inv_s, np.float32))

        def forward(self, x):
            if self.inv_s is not None:
                x = x * self.inv_s
            return torch.matmul(x, self.weight.t()) + self.bias
    return QLin


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="/work/scratch/models/minilm/hf")
    ap.add_argument("--data", default="/work/shared/data")
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--calib", type=int, default=128)
    ap.add_argument("--test", type=int, default=None)
    ap.add_argument("--no-scale-only", dest="scale_only", action="store_false",
                    help="skip the extra diagnostic variant 'awq_scale_only' (AWQ scales, no clip search)")
    args = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    t0 = time.time()
    model, cfg, weights = qr.load_model(args.model)
    encode = qr.load_tokenizer(args.model)
    calib = [encode(t) for t in qr.read_texts(os.path.join(args.data, "fine_foods_train.csv"), args.calib)]
    test = [encode(t) for t in qr.read_texts(os.path.join(args.data, "fine_foods_test.csv"), args.test)]
    names = [f"encoder.layer.{l}.{n}" for l in range(cfg["num_hidden_layers"]) for n in LINEARS]
    g, bits_list = 128, [4, 3]
    print(f"calibration texts {len(calib)} ({sum(map(len, calib))} tokens), test texts {len(test)} "
          f"({sum(map(len, test))} tokens)", flush=True)

    emb_fp = embed(model, test)
    print(f"[{time.time() - t0:.0f}s] FP embeddings done", flush=True)
    xs = collect_inputs(model, names, calib)
    print(f"[{time.time() - t0:.0f}s] calibration inputs collected", flush=True)

    QLin = make_qlin_class()
    originals = {n: get_module(model, n) for n in names}
    variants = {}                         # (method, bits) -> {name: QLin}
    per_linear = {}
    for n in names:
        w = weights[n + ".weight"]
        x = xs[n]
        gram = x.astype(np.float64).T @ x.astype(np.float64)
        y2 = float(np.einsum("oi,oi->", w.astype(np.float64) @ gram, w.astype(np.float64)))

        def rel(w_eff):
            d = w_eff.astype(np.float64) - w.astype(np.float64)
            return float(np.sqrt(max(np.einsum("oi,oi->", d @ gram, d), 0.0) / y2))
        skip_clip = (".query" in n) or (".key" in n)
        info = {}
        for bits in bits_list:
            w_rtn = qr.fake_quant(w, bits, g)
            a = qr.awq_linear(w, x, bits, g, clip=not skip_clip, gram=gram)
            w_awq = qr.fake_quant(a["ws_final"], bits, g)
            s64 = a["s"].astype(np.float64)
            inv_s = (np.float32(1) / a["s"]).astype(np.float32)
            variants.setdefault(("rtn", bits), {})[n] = QLin(w_rtn, originals[n].bias)
            variants.setdefault(("awq", bits), {})[n] = QLin(w_awq, originals[n].bias, inv_s)
            if args.scale_only:
                variants.setdefault(("awq_scale_only", bits), {})[n] = QLin(
                    qr.fake_quant(a["ws_scale_only"], bits, g), originals[n].bias, inv_s)
            info[str(bits)] = dict(alpha=a["alpha"], clip=not skip_clip,
                                   rel_error_rtn=rel(w_rtn), rel_error_awq=rel(w_awq / s64),
                                   rel_error_awq_scale_only=rel(qr.fake_quant(a["ws_scale_only"], bits, g) / s64))
            print(f"  {n} b={bits} tokens={x.shape[0]} alpha={a['alpha']:.2f} rel err RTN={info[str(bits)]['rel_error_rtn']:.4f} "
                  f"AWQ={info[str(bits)]['rel_error_awq']:.4f}", flush=True)
        per_linear[n] = info
        del xs[n]
    print(f"[{time.time() - t0:.0f}s] quantization done", flush=True)

    results = {}
    for (method, bits), mods in sorted(variants.items(), key=lambda kv: (-kv[0][1], kv[0][0])):
        for n, m in mods.items():
            set_module(model, n, m)
        e = embed(model, test)
        for n, m in originals.items():
            set_module(model, n, m)
        cos = (e.astype(np.float64) * emb_fp.astype(np.float64)).sum(1)
        results.setdefault(method, {})[str(bits)] = dict(
            mean_cosine=float(cos.mean()), min_cosine=float(cos.min()),
            p05_cosine=float(np.percentile(cos, 5)), median_cosine=float(np.median(cos)))
        print(f"[{time.time() - t0:.0f}s] {method} {bits}-bit: mean cosine {cos.mean():.5f} (min {cos.min():.4f})", flush=True)
    # sanity: FP model restored gives identical embeddings
    assert np.array_equal(embed(model, test[:8]), embed(model, test[:8]))

    doc = dict(
        description=("Mean cosine between full-precision and fake-quantized all-MiniLM-L6-v2 sentence embeddings "
                     "(masked mean pooling + L2 norm, max length 128) of fine_foods_test.csv; produced by "
                     "embedding_cosines.py (see its header for every setting)."),
        settings=dict(quantized="36 encoder Linears (q, k, v, attention.output.dense, intermediate.dense, "
                                "output.dense x 6 layers); embeddings and pooler kept float32",
                      group_size=g, bits=bits_list, zero_point=True, rounding="half to even",
                      awq_scale_only="diagnostic: same AWQ scales and inv_s multiply, no clip search anywhere",
                      blas=os.environ.get("BLAS_NOTE", "system default libblas.so.3"),
                      awq=("per-Linear scale search on its own FP inputs (alpha i/20, i=0..19, mean |x|, no duo "
                           "scaling), clip search after scaling except query/key, inverse scale as an explicit "
                           "multiply on the input (no folding)"),
                      calibration=dict(data="fine_foods_train.csv first %d rows" % len(calib), max_length=128,
                                       tokens=int(sum(map(len, calib))), source="full-precision model"),
                      test=dict(data="fine_foods_test.csv", texts=len(test), tokens=int(sum(map(len, test)))),
                      runtime_seconds=round(time.time() - t0)),
        cosine=results,
        per_linear=per_linear,
    )
    with open(os.path.join(args.out, "embedding-cosines.json"), "w", newline="\n") as f:
        f.write(qr.dumps(doc) + "\n")
    print("wrote", os.path.join(args.out, "embedding-cosines.json"))


if __name__ == "__main__":
    main()
