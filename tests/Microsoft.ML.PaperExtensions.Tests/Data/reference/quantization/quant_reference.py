#!/usr/bin/env python3
# Independent NumPy reference for weight-only group quantization (spec /work/shared/papers/quantization.md,
# sections 2, 3.1, 3.2): the shared asymmetric group quantizer, RTN, and per-Linear AWQ (scale search +
# clip search) on ONE Linear layer of all-MiniLM-L6-v2. Written from the spec; no AWQ/AutoAWQ code.
#
# Regenerate (from this folder; Debian bookworm /usr/bin/python3 with python3-torch 1.13 + python3-numpy):
#
#   OMP_NUM_THREADS=1 /usr/bin/python3 quant_reference.py \
#       --model /path/to/all-MiniLM-L6-v2/hf --data /work/shared/data [--out .]
#
#   --model: Hugging Face folder (model.safetensors F32, config.json, vocab.txt; vocab may have CRLF).
#   --data:  folder with fine_foods_train.csv (columns text,label; every value quoted).
#
# Writes:
#   layer0-intermediate-input-256.bin  the first 256 calibration token rows X[0:256] (float32 LE, row-major
#                                      [256, 384]); inputs of encoder.layer.0.intermediate.dense
#   awq-layer0-intermediate.json       settings, chosen alpha, relative output errors, s, scales/zeros/codes
#                                      for the full calibration set ("results") and for the 256 stored rows
#                                      ("calibration256", the set a C# test can reproduce exactly).
#
# Definitions (W [O, I] float32, X [T, I] float32, g along I):
#   Quantizer (spec 2, zero point on): per group of g consecutive input channels of one output row,
#     max_int = 2^b - 1; scale = max(mx - mn, 1e-5) / max_int; zero = clamp(-round(mn/scale), 0, max_int);
#     q = clamp(round(W/scale) + zero, 0, max_int); W_hat = (q - zero) * scale.
#     All quantizer arithmetic is float32 (as torch/TorchSharp would do it); round = half to even (np.round).
#   RTN: W_hat = Q(W).
#   AWQ scale search (spec 3.2, generic per-Linear variant, no duo scaling):
#     s_x[j] = mean_t |X[t, j]| (float64); for alpha in {0, 1/20, ..., 19/20}:
#       s = max(s_x^alpha, 1e-4); s = s / sqrt(max(s) * min(s))   (float64, then cast to float32)
#       loss(alpha) = ||(X diag(s)^-1) Q(W diag s)^T - X W^T||_F^2 / (T*O)      (evaluated in float64 via
#       the Gram matrix: sum over rows of D G D^T, D = Q(W diag s) diag(s)^-1 - W, G = X^T X)
#     keep the first alpha with the lowest loss (ties -> smaller alpha). W diag s is a float32 product.
#   Clip search (spec 3.2 step 6), applied AFTER the scale on Ws = W diag s and Xs = X diag(s)^-1:
#     token sub-sample: T <= 512 -> all rows; else every k-th row, k = T // 512, first 512 of those.
#     per (output row, group): max_val_i = float32(max|w|) * float32(1 - i/20), i = 0..9;
#     err_i = sum over sub-sampled tokens of (x_g . (Q(clamp(w, -max_val_i, max_val_i)) - w))^2 (float64);
#     the first i with the strictly lowest error wins (ties -> smaller shrink); Ws is clamped with it.
#   Sensitivity: after a symmetric clip (mn = -mx) -mn/scale is exactly (2^b - 1)/2 in real arithmetic, so
#     the zero point of such groups is decided by float32 rounding; s computed in float32 instead of float64
#     (1-ulp differences) changes a few clip decisions and ~0.6% of the AWQ codes. To reproduce the codes
#     exactly, use the stored s_all (all I values of s, exact float32) and float32 quantizer arithmetic.
#   AWQ+clip: W_hat = Q(clamp(Ws)) applied to Xs.   Relative output error (spec 7, bias excluded):
#     ||Y_hat - Y||_F / ||Y||_F with Y = X W^T, evaluated in float64 on the calibration rows themselves.
# Calibration: the first 32 rows of fine_foods_train.csv, tokenized with wordpiece_reference.py (../text),
#   [CLS] + first 126 word pieces + [SEP] (max length 128), one text per forward (no padding), float32
#   forward of the independent plain-PyTorch BERT in ../text/make_tiny_bert.py (TinyBert), 1 thread.
#   X = input of encoder.layer.0.intermediate.dense (= output of attention.output.LayerNorm), all tokens of
#   the 32 texts in text order.
import argparse
import csv
import hashlib
import json
import math
import os
import struct
import sys

sys.dont_write_bytecode = True          # no __pycache__ next to the fixtures (here or in ../text)
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TEXT_DIR = os.path.join(os.path.dirname(HERE), "text")

ALPHAS = [i / 20 for i in range(20)]
N_GRID, MAX_SHRINK, N_SAMPLE_TOKENS = 20, 0.5, 512


# ---------------------------------------------------------------- shared group quantizer (spec 2)
def quantize(w, bits, g):
    """w float32 [O, I] -> (codes uint8 [O, I], scales float32 [O, I/g], zeros uint8 [O, I/g])."""
    w = np.asarray(w, dtype=np.float32)
    O, I = w.shape
    if I % g != 0:
        raise ValueError(f"I={I} is not a multiple of g={g}")
    max_int = np.float32(2 ** bits - 1)
    wg = w.reshape(O, I // g, g)
    mn = wg.min(axis=-1)
    mx = wg.max(axis=-1)
    scale = np.maximum(mx - mn, np.float32(1e-5)) / max_int                  # float32
    zero = np.clip(-np.round(mn / scale), np.float32(0), max_int)           # float32, integral
    q = np.clip(np.round(wg / scale[..., None]) + zero[..., None], np.float32(0), max_int)
    return (q.reshape(O, I).astype(np.uint8), scale.astype(np.float32), zero.astype(np.uint8))


def dequantize(codes, scales, zeros, g):
    O, I = codes.shape
    q = codes.reshape(O, I // g, g).astype(np.float32)
    z = zeros.astype(np.float32)[..., None]
    return ((q - z) * scales[..., None]).reshape(O, I).astype(np.float32)


def fake_quant(w, bits, g):
    c, s, z = quantize(w, bits, g)
    return dequantize(c, s, z, g)


# ---------------------------------------------------------------- AWQ for one Linear (spec 3.2)
def act_stat(x):
    return np.abs(np.asarray(x, dtype=np.float64)).mean(axis=0)


def awq_scale_from_stat(sx, alpha):
    s = np.maximum(np.power(sx, alpha), 1e-4)
    s = s / math.sqrt(s.max() * s.min())
    return s.astype(np.float32)


def awq_scale_search(w, x, bits, g, gram=None):
    """returns (best alpha, s float32 [I], losses per alpha). loss = output MSE on x (float64)."""
    w = np.asarray(w, dtype=np.float32)
    x64 = np.asarray(x, dtype=np.float64)
    T = x64.shape[0]
    G = gram if gram is not None else x64.T @ x64
    sx = act_stat(x64)
    w64 = w.astype(np.float64)
    losses, best = [], None
    for alpha in ALPHAS:
        s = awq_scale_from_stat(sx, alpha)
        w_eff = fake_quant(w * s, bits, g).astype(np.float64) / s.astype(np.float64)
        d = w_eff - w64
        loss = float(np.einsum("oi,oi->", d @ G, d)) / (T * w.shape[0])
        losses.append(loss)
        if best is None or loss < best[0]:
            best = (loss, alpha, s)
    return best[1], best[2], losses


def subsample_tokens(x, n=N_SAMPLE_TOKENS):
    T = x.shape[0]
    if T <= n:
        return x
    k = T // n
    return x[::k][:n]


def clip_search(ws, xs, bits, g):
    """ws float32 [O, I] (already scaled), xs [T, I] (already divided by s).
    returns (clipped ws float32, best max_val [O, I/g] float32, best shrink index [O, I/g])."""
    ws = np.asarray(ws, dtype=np.float32)
    O, I = ws.shape
    ng = I // g
    xsub = subsample_tokens(np.asarray(xs, dtype=np.float64))
    wg = ws.reshape(O, ng, g)
    org_max = np.abs(wg).max(axis=-1)                                        # [O, ng] float32
    best_err = np.full((O, ng), np.inf)
    best_max = org_max.copy()
    best_idx = np.zeros((O, ng), dtype=np.int32)
    w64 = wg.astype(np.float64)
    for i in range(int(MAX_SHRINK * N_GRID)):
        max_val = org_max * np.float32(1 - i / N_GRID)                       # float32
        cur = np.clip(wg, -max_val[..., None], max_val[..., None])
        qw = fake_quant(cur.reshape(O, I), bits, g).reshape(O, ng, g).astype(np.float64)
        err = np.empty((O, ng))
        for j in range(ng):
            diff = xsub[:, j * g:(j + 1) * g] @ (qw[:, j, :] - w64[:, j, :]).T   # [n_tok, O]
            err[:, j] = np.einsum("to,to->o", diff, diff)
        better = err < best_err
        best_err[better] = err[better]
        best_max[better] = max_val[better]
        best_idx[better] = i
    clipped = np.clip(wg, -best_max[..., None], best_max[..., None]).reshape(O, I)
    return clipped.astype(np.float32), best_max, best_idx


def awq_linear(w, x, bits, g, clip=True, gram=None):
    """Full per-Linear AWQ. Returns dict with s (float32 [I]), alpha, losses, ws_final (float32 [O, I],
    what gets quantized), codes/scales/zeros of ws_final, clip indices (or None)."""
    alpha, s, losses = awq_scale_search(w, x, bits, g, gram=gram)
    ws = (np.asarray(w, dtype=np.float32) * s).astype(np.float32)
    out = dict(alpha=alpha, s=s, losses=losses, ws_scale_only=ws, clip_idx=None)
    if clip:
        xs = (np.asarray(x, dtype=np.float64) / s.astype(np.float64))
        ws, _, idx = clip_search(ws, xs, bits, g)
        out["clip_idx"] = idx
    out["ws_final"] = ws
    return out


def rel_error(x, w, w_eff_scaled, s=None):
    """||(X diag(s)^-1) w_eff_scaled^T - X W^T||_F / ||X W^T||_F in float64."""
    x64 = np.asarray(x, dtype=np.float64)
    y = x64 @ np.asarray(w, dtype=np.float64).T
    xs = x64 if s is None else x64 / np.asarray(s, dtype=np.float64)
    yh = xs @ np.asarray(w_eff_scaled, dtype=np.float64).T
    return float(np.linalg.norm(yh - y) / np.linalg.norm(y))


# ---------------------------------------------------------------- MiniLM loading / forward
def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n).decode("utf-8"))
        base = 8 + n
        out = {}
        for k, v in header.items():
            if k == "__metadata__":
                continue
            if v["dtype"] != "F32":
                raise ValueError(f"{k}: dtype {v['dtype']} not supported")
            a, b = v["data_offsets"]
            f.seek(base + a)
            out[k] = np.frombuffer(f.read(b - a), dtype="<f4").reshape(v["shape"]).copy()
    return out


def load_model(model_dir):
    import torch
    if TEXT_DIR not in sys.path:
        sys.path.insert(0, TEXT_DIR)
    import make_tiny_bert as mtb
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    weights = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    m = mtb.TinyBert(cfg)
    m.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=True)
    return m.float().eval(), cfg, weights


def load_tokenizer(model_dir):
    if TEXT_DIR not in sys.path:
        sys.path.insert(0, TEXT_DIR)
    import wordpiece_reference as wp
    vocab = wp.load_vocab(os.path.join(model_dir, "vocab.txt"))

    def encode(text, max_len=128):
        ids = [vocab[t] for t in wp.tokenize(text, vocab)][:max_len - 2]
        return [vocab["[CLS]"]] + ids + [vocab["[SEP]"]]
    return encode


def read_texts(path, n=None):
    with open(path, encoding="utf-8", newline="") as f:
        rows = [r["text"] for r in csv.DictReader(f)]
    return rows if n is None else rows[:n]


def capture_layer_input(model, encode, texts, module):
    """inputs of `module` for each text run alone (no padding), concatenated in text order (float32)."""
    import torch
    got = []
    h = module.register_forward_hook(lambda mod, inp, out: got.append(inp[0].detach().reshape(-1, inp[0].shape[-1]).clone()))
    try:
        with torch.no_grad():
            for t in texts:
                ids = torch.tensor([encode(t)])
                model(ids, torch.ones_like(ids), torch.zeros_like(ids))
    finally:
        h.remove()
    return torch.cat(got, 0).numpy().astype(np.float32)


# ---------------------------------------------------------------- reference file
def f32list(a):
    return [float(v) for v in np.asarray(a, dtype=np.float32).ravel()]


def row_dump(codes, scales, zeros, r):
    return dict(scales=f32list(scales[r]), zeros=[int(v) for v in zeros[r]], codes=[int(v) for v in codes[r]])


def run_all(w, x, bits_list, g):
    res = {}
    gram = np.asarray(x, dtype=np.float64).T @ np.asarray(x, dtype=np.float64)
    for bits in bits_list:
        rc, rs, rz = quantize(w, bits, g)
        rtn_hat = dequantize(rc, rs, rz, g)
        a = awq_linear(w, x, bits, g, clip=True, gram=gram)
        s = a["s"]
        so_hat = fake_quant(a["ws_scale_only"], bits, g)
        ac, as_, az = quantize(a["ws_final"], bits, g)
        ac_hat = dequantize(ac, as_, az, g)
        e_rtn = rel_error(x, w, rtn_hat)
        e_so = rel_error(x, w, so_hat, s)
        e_clip = rel_error(x, w, ac_hat, s)
        print(f"  bits={bits}: alpha={a['alpha']:.2f}  rel err RTN={e_rtn:.6f}  AWQ-scale={e_so:.6f}  "
              f"AWQ+clip={e_clip:.6f}  clipped groups={int((a['clip_idx'] > 0).sum())}/{a['clip_idx'].size}")
        res[str(bits)] = dict(
            alpha=a["alpha"],
            alpha_index=int(round(a["alpha"] * 20)),
            scale_search_mse_per_alpha=a["losses"],
            relative_output_error=dict(rtn=e_rtn, awq_scale_only=e_so, awq_scale_clip=e_clip),
            s_first64=f32list(s[:64]),
            s_all=f32list(s),
            rtn_all=dict(codes_sha256=sha256(rc.tobytes()), zeros_sha256=sha256(rz.tobytes()),
                         codes_sum=int(rc.astype(np.int64).sum()), zeros_sum=int(rz.astype(np.int64).sum()),
                         scales_sum=float(rs.astype(np.float64).sum())),
            awq_clip_all=dict(codes_sha256=sha256(ac.tobytes()), zeros_sha256=sha256(az.tobytes()),
                              codes_sum=int(ac.astype(np.int64).sum()), zeros_sum=int(az.astype(np.int64).sum()),
                              scales_sum=float(as_.astype(np.float64).sum()),
                              groups_at_half_tie=int(half_ties(a["ws_final"], bits, g))),
            clip_shrink_index_row0=[int(v) for v in a["clip_idx"][0]],
            clip_shrink_index_histogram=[int((a["clip_idx"] == i).sum()) for i in range(int(MAX_SHRINK * N_GRID))],
            rtn_row0=row_dump(rc, rs, rz, 0),
            rtn_row1535=row_dump(rc, rs, rz, w.shape[0] - 1),
            awq_clip_row0=row_dump(ac, as_, az, 0),
        )
    return res


def half_ties(w, bits, g):
    """groups whose -mn/scale lies within 1e-4 of k + 1/2: there the zero point (round half to even) is
    decided by float32 rounding of scale and mn/scale (typical after a symmetric clip: mn = -mx)."""
    wg = np.asarray(w, dtype=np.float32).reshape(w.shape[0], -1, g)
    mn, mx = wg.min(-1), wg.max(-1)
    sc = np.maximum(mx - mn, np.float32(1e-5)) / np.float32(2 ** bits - 1)
    r = (-mn / sc).astype(np.float64)
    return (np.abs(r - np.floor(r) - 0.5) < 1e-4).sum()


def dumps(obj, ind=0):
    """JSON with one key per line but every list of scalars on a single line (compact, diff-friendly)."""
    pad = " " * ind
    if isinstance(obj, dict):
        items = [f'{pad} {json.dumps(k)}: {dumps(v, ind + 1).lstrip()}' for k, v in obj.items()]
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and any(isinstance(v, (dict, list)) for v in obj):
        return pad + "[\n" + ",\n".join(dumps(v, ind + 1) for v in obj) + "\n" + pad + "]"
    return pad + json.dumps(obj, separators=(",", ":"))


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="/work/scratch/models/minilm/hf")
    ap.add_argument("--data", default="/work/shared/data")
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--texts", type=int, default=32)
    args = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    model, cfg, weights = load_model(args.model)
    encode = load_tokenizer(args.model)
    texts = read_texts(os.path.join(args.data, "fine_foods_train.csv"), args.texts)
    layer = "encoder.layer.0.intermediate.dense"
    x = capture_layer_input(model, encode, texts, model.encoder.layer[0].intermediate.dense)
    w = weights[layer + ".weight"]
    tokens_per_text = [len(encode(t)) for t in texts]
    assert x.shape[0] == sum(tokens_per_text)
    print(f"X {x.shape}, W {w.shape}; tokens per text {tokens_per_text}")
    g, bits_list = 128, [4, 3]
    x256 = np.ascontiguousarray(x[:256], dtype="<f4")
    b256 = x256.tobytes()
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "layer0-intermediate-input-256.bin"), "wb") as f:
        f.write(b256)
    print("full calibration set:")
    full = run_all(w, x, bits_list, g)
    print("first 256 rows:")
    c256 = run_all(w, x256, bits_list, g)
    cum = np.cumsum(tokens_per_text)
    doc = dict(
        description=("Independent NumPy reference (quant_reference.py in this folder) for RTN and per-Linear AWQ "
                     "(scale search + clip search) on encoder.layer.0.intermediate.dense of all-MiniLM-L6-v2. "
                     "See the header of quant_reference.py for every formula and float precision. 'results' uses "
                     "all calibration tokens; 'calibration256' repeats everything using only the 256 rows stored in "
                     "layer0-intermediate-input-256.bin as calibration data (and evaluates errors on them)."),
        settings=dict(
            model="sentence-transformers/all-MiniLM-L6-v2 (Hugging Face model.safetensors, F32)",
            layer=layer, weight_shape=list(w.shape), weight_sha256_f32le=sha256(np.ascontiguousarray(w, "<f4").tobytes()),
            group_size=g, bits=bits_list, zero_point=True, rounding="half to even",
            quantizer="scale=max(mx-mn,1e-5)/(2^b-1); zero=clamp(-round(mn/scale),0,2^b-1); "
                      "q=clamp(round(w/scale)+zero,0,2^b-1); w_hat=(q-zero)*scale (float32)",
            awq=dict(variant="generic per-Linear, no duo scaling", statistic="mean |x| per input channel",
                     alpha_grid="i/20, i=0..19", s="max(s_x^alpha,1e-4)/sqrt(max*min), float64 then float32",
                     objective="||(X/s) Q(W*s)^T - X W^T||_F^2 / (T*O) in float64; first minimum wins"),
            clip=dict(after_scale=True, shrink_ratios="i/20, i=0..9", max_val="float32(max|w|)*float32(1-i/20)",
                      tokens="all if T<=512 else X[::T//512][:512]", error="sum_t (x_g.(Q(clamp w)-w))^2 per "
                      "(row, group), float64; strict < so ties keep the smaller shrink"),
            relative_output_error="||Y_hat - Y||_F / ||Y||_F, Y = X W^T (no bias), float64, on the calibration rows",
            calibration=dict(data="fine_foods_train.csv rows 1..%d (header excluded)" % len(texts),
                             tokenizer="wordpiece_reference.py (uncased), [CLS] + 126 pieces max + [SEP]",
                             max_length=128, forward="TinyBert from make_tiny_bert.py, float32, one text per call",
                             tokens_per_text=tokens_per_text, total_tokens=int(x.shape[0])),
        ),
        calibration_tokens=int(x.shape[0]),
        results=full,
        calibration256=dict(
            file="layer0-intermediate-input-256.bin", shape=[256, int(x.shape[1])], dtype="float32 little-endian, row-major",
            sha256=sha256(b256), texts_covered=int(np.searchsorted(cum, 256, side="left") + 1),
            note="rows 0..255 of the full calibration X (tokens of the first texts, in order; the last text may be cut)",
            results=c256),
    )
    with open(os.path.join(args.out, "awq-layer0-intermediate.json"), "w", newline="\n") as f:
        f.write(dumps(doc) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
