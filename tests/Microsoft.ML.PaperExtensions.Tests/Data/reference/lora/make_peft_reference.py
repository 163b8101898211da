#!/usr/bin/env python3
# PEFT-format LoRA / rsLoRA / DoRA adapters for the tiny random BERT, with reference outputs.
#
# Regenerate (from this folder; Debian bookworm python3-torch 1.13 + python3-numpy, no other packages):
#
#   /usr/bin/python3 -B make_peft_reference.py .
#
# Inputs (read-only): ../text/tiny-bert/model.safetensors (base weights), ../text/tiny-bert-reference.json
# (the three input batches), ../text/make_tiny_bert.py (its TinyBert forward pass, imported).
#
# Writes (deterministic; seeds 20241101 + k for adapter k = 0, 1, 2):
#   peft-lora/    adapter_model.safetensors, adapter_config.json, outputs.json   (LoRA,   gamma = alpha / r)
#   peft-rslora/  same files                                                     (rsLoRA, gamma = alpha / sqrt(r))
#   peft-dora/    same files + lora_magnitude_vector tensors                     (DoRA,   gamma = alpha / r)
#
# Model = tiny BERT (frozen) + LoRA on encoder.layer.{0,1}.attention.self.{query,value} + sequence-classification
# head: logits = classifier(dropout(pooler_output)), classifier = Linear(32, 3); eval mode, so dropout = identity
# (the adapter's lora_dropout likewise acts only in training).
#
# Adapter math (spec lora.md sections 3 and 4), W [out, in], A = lora_A.weight [r, in], B = lora_B.weight [out, r]:
#   LoRA / rsLoRA : y = x W^T + b + gamma (x A^T) B^T,    merged W' = W + gamma B A
#   DoRA          : n_i = ||(W + gamma B A)_{i,:}||_2 (per output row), y = (m / n) (.) (x W^T + gamma x A^T B^T) + b,
#                   merged W' = (m / n) (.) (W + gamma B A) row-wise, bias unchanged
# Initialisation (deliberately NOT PEFT's B = 0, so that the adapter changes the outputs):
#   lora_A = kaiming_uniform_(a = sqrt 5) as PEFT does = U(-1/sqrt(in), +1/sqrt(in)), written out by hand because
#            torch 1.13's init functions take no generator;
#   lora_B ~ N(0, 0.1^2);
#   lora_magnitude_vector (DoRA) = ||W_{i,:}||_2 * (1 + 0.05 N(0, 1));
#   classifier.weight ~ N(0, 0.5^2), classifier.bias ~ N(0, 0.1^2) (larger than BERT's N(0, 0.02^2) init so the
#            logits are O(1) and a wrong bias or pooled vector is visible).
#
# On-disk key names (spec section 7; they are what PEFT's get_peft_model_state_dict + save_pretrained write: the
# in-memory adapter name ".default" is removed, DoRA's "lora_magnitude_vector.default.weight" loses both suffixes,
# and ModulesToSaveWrapper's "classifier.modules_to_save.default.weight" is saved as "classifier.weight"):
#   base_model.model.encoder.layer.N.attention.self.{query,value}.lora_A.weight        [r, in]  F32
#   base_model.model.encoder.layer.N.attention.self.{query,value}.lora_B.weight        [out, r] F32
#   base_model.model.encoder.layer.N.attention.self.{query,value}.lora_magnitude_vector [out]    F32 (DoRA only)
#   base_model.model.classifier.weight [3, 32], base_model.model.classifier.bias [3]            (modules_to_save)
# The base model is a bare BertModel (tiny-bert/ has no "bert." prefix), so the paths carry no "bert.": with
# Hugging Face's BertForSequenceClassification PEFT would write base_model.model.bert.encoder.layer.N... instead,
# and still base_model.model.classifier.weight / .bias.
# safetensors: u64 little-endian header length, JSON header {name: {dtype, shape, data_offsets}} + "__metadata__":
# {"format": "pt"} (keys sorted, header padded with spaces to a multiple of 8 bytes), then the raw little-endian
# tensor bytes in key order, data_offsets relative to the end of the header.
#
# outputs.json: reference values computed in float64 from the stored float32 tensors (base weights and adapter),
# rounded to 7 significant digits; the script also runs the float32 forward and asserts it agrees (rel. 1e-5),
# asserts merged == unmerged (float64), and checks the base pooler output against tiny-bert-reference.json.
import collections
import json
import math
import os
import struct
import sys

sys.dont_write_bytecode = True          # never leave __pycache__ next to the fixtures (also run with -B)
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TEXT = os.path.normpath(os.path.join(HERE, "..", "text"))
sys.path.insert(0, TEXT)
import make_tiny_bert as mtb  # noqa: E402   (TinyBert forward, CONFIG; our own code)

TARGETS = ["query", "value"]
R, ALPHA, LORA_DROPOUT = 4, 8, 0.1
NUM_LABELS = 3
SEED = 20241101

DT_CODES = {"F32": ("<f4", torch.float32), "F64": ("<f8", torch.float64), "I64": ("<i8", torch.int64)}


# ---------------------------------------------------------------- safetensors by hand
def read_safetensors(path):
    import numpy as np
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n).decode("utf-8"))
        data = f.read()
    out = collections.OrderedDict()
    for k, v in header.items():
        if k == "__metadata__":
            continue
        npdt, _ = DT_CODES[v["dtype"]]
        b, e = v["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(data[b:e], dtype=npdt).copy().reshape(v["shape"]))
    return out


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for k in sorted(tensors):
        t = tensors[k].detach().cpu().contiguous()
        assert t.dtype == torch.float32
        b = t.numpy().astype("<f4").tobytes()
        header[k] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {"format": "pt"}
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


# ---------------------------------------------------------------- adapter layer
class LoraLinear(torch.nn.Module):
    """Frozen Linear (weight [out, in], bias [out]) + LoRA / DoRA branch. Eval-mode forward (no dropout)."""

    def __init__(self, base, r, scale, dora):
        super().__init__()
        self.weight = torch.nn.Parameter(base.weight.detach().clone(), requires_grad=False)
        self.bias = torch.nn.Parameter(base.bias.detach().clone(), requires_grad=False)
        out_f, in_f = self.weight.shape
        self.lora_A = torch.nn.Parameter(torch.zeros(r, in_f))
        self.lora_B = torch.nn.Parameter(torch.zeros(out_f, r))
        self.lora_magnitude_vector = torch.nn.Parameter(torch.zeros(out_f)) if dora else None
        self.scale = scale

    def delta(self):
        return self.scale * (self.lora_B @ self.lora_A)                      # gamma B A   [out, in]

    def forward(self, x):
        base = torch.matmul(x, self.weight.t())
        lora = self.scale * torch.matmul(torch.matmul(x, self.lora_A.t()), self.lora_B.t())
        if self.lora_magnitude_vector is None:
            return base + self.bias + lora
        n = torch.linalg.norm(self.weight + self.delta(), dim=1).detach()   # per output row, no gradient
        return (self.lora_magnitude_vector / n) * (base + lora) + self.bias

    def merged_weight(self):
        w = self.weight + self.delta()
        if self.lora_magnitude_vector is None:
            return w
        return (self.lora_magnitude_vector / torch.linalg.norm(w, dim=1))[:, None] * w


class SeqCls(torch.nn.Module):
    def __init__(self, bert):
        super().__init__()
        self.bert = bert
        H = bert.h * bert.d
        self.classifier = mtb.Lin(NUM_LABELS, H)                              # weight [3, 32], bias [3]

    def forward(self, ids, mask, types):
        _, pooled = self.bert(ids, mask, types)
        return self.classifier(pooled), pooled                               # dropout(pooled) = pooled in eval


def kaiming_uniform_sqrt5(shape, g):
    fan_in = shape[1]
    gain = math.sqrt(2.0 / (1.0 + 5.0))                                      # leaky_relu gain, a = sqrt(5)
    bound = gain * math.sqrt(3.0 / fan_in)                                   # = 1 / sqrt(fan_in)
    return (torch.rand(*shape, generator=g, dtype=torch.float64) * 2.0 - 1.0).mul(bound).float()


def build(base_w, kind, seed):
    """kind in lora | rslora | dora. Returns (model fp32, adapter tensors in PEFT names, scale)."""
    g = torch.Generator().manual_seed(seed)
    scale = ALPHA / math.sqrt(R) if kind == "rslora" else ALPHA / R
    bert = mtb.build_model(base_w, torch.float32)
    model = SeqCls(bert)
    H = bert.h * bert.d
    tensors = collections.OrderedDict()
    for i, lay in enumerate(bert.encoder.layer):
        for t in TARGETS:
            base = getattr(lay.attention.self, t)
            m = LoraLinear(base, R, scale, kind == "dora")
            with torch.no_grad():
                m.lora_A.copy_(kaiming_uniform_sqrt5((R, H), g))
                m.lora_B.copy_(torch.randn(H, R, generator=g) * 0.1)
                if m.lora_magnitude_vector is not None:
                    m.lora_magnitude_vector.copy_(
                        torch.linalg.norm(m.weight, dim=1) * (1.0 + 0.05 * torch.randn(H, generator=g)))
            setattr(lay.attention.self, t, m)
            p = f"base_model.model.encoder.layer.{i}.attention.self.{t}."
            tensors[p + "lora_A.weight"] = m.lora_A.detach().clone()
            tensors[p + "lora_B.weight"] = m.lora_B.detach().clone()
            if m.lora_magnitude_vector is not None:
                tensors[p + "lora_magnitude_vector"] = m.lora_magnitude_vector.detach().clone()
    with torch.no_grad():
        model.classifier.weight.copy_(torch.randn(NUM_LABELS, H, generator=g) * 0.5)
        model.classifier.bias.copy_(torch.randn(NUM_LABELS, generator=g) * 0.1)
    tensors["base_model.model.classifier.weight"] = model.classifier.weight.detach().clone()
    tensors["base_model.model.classifier.bias"] = model.classifier.bias.detach().clone()
    return model.eval(), tensors, scale


def adapter_config(kind):
    # Field set of PEFT's LoraConfig.to_dict() as far as spec section 7 names them, plus a few fields real PEFT files
    # also carry (inference_mode, layers_to_transform, layers_pattern, lora_bias, revision) so a loader is exercised
    # on keys it must ignore or honour.
    return collections.OrderedDict([
        ("peft_type", "LORA"),
        ("task_type", "SEQ_CLS"),
        ("base_model_name_or_path", "tiny-bert"),
        ("r", R),
        ("lora_alpha", ALPHA),
        ("lora_dropout", LORA_DROPOUT),
        ("target_modules", list(TARGETS)),
        ("bias", "none"),
        ("use_rslora", kind == "rslora"),
        ("use_dora", kind == "dora"),
        ("fan_in_fan_out", False),
        ("init_lora_weights", True),
        ("modules_to_save", ["classifier"]),
        ("rank_pattern", {}),
        ("alpha_pattern", {}),
        ("inference_mode", True),
        ("layers_to_transform", None),
        ("layers_pattern", None),
        ("lora_bias", False),
        ("revision", None),
    ])


def rnd(x):
    if isinstance(x, list):
        return [rnd(v) for v in x]
    return float(f"{x:.7g}")


def merged_copy(model):
    """float64 copy with adapters merged into plain Linear weights (no adapter left)."""
    m = mtb.build_model(collections.OrderedDict((k, v.clone()) for k, v in model.bert.state_dict().items()
                                                if "lora_" not in k), torch.float64)
    for lay_m, lay_a in zip(m.encoder.layer, model.bert.encoder.layer):
        for t in TARGETS:
            with torch.no_grad():
                getattr(lay_m.attention.self, t).weight.copy_(getattr(lay_a.attention.self, t).merged_weight())
    out = SeqCls(m).double()
    out.classifier.load_state_dict(model.classifier.state_dict())
    return out.eval()


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else HERE
    torch.manual_seed(SEED)
    base_w = read_safetensors(os.path.join(TEXT, "tiny-bert", "model.safetensors"))
    with open(os.path.join(TEXT, "tiny-bert-reference.json")) as f:
        ref = json.load(f)
    # base model check against the committed tiny-bert reference (7 significant digits)
    base64 = mtb.build_model(base_w, torch.float64)
    with torch.no_grad():
        for b in ref["batches"]:
            _, pooled = base64(torch.tensor(b["input_ids"]), torch.tensor(b["attention_mask"]),
                               torch.tensor(b["token_type_ids"]))
            err = (pooled - torch.tensor(b["pooler_output"], dtype=torch.float64)).abs().max().item()
            assert err < 5e-6, (b["name"], err)

    for k, kind in enumerate(["lora", "rslora", "dora"]):
        model32, tensors, scale = build(base_w, kind, SEED + k)
        model64 = _double_copy(model32)
        merged64 = merged_copy(model64)
        base_cls = SeqCls(mtb.build_model(base_w, torch.float64)).double().eval()
        base_cls.classifier.load_state_dict(model64.classifier.state_dict())
        rows = []
        with torch.no_grad():
            for b in ref["batches"]:
                args = [torch.tensor(b[n]) for n in ("input_ids", "attention_mask", "token_type_ids")]
                logits, pooled = model64(*args)
                logits32, _ = model32(*args)
                logits_m, _ = merged64(*args)
                base_logits, _ = base_cls(*args)
                rel32 = ((logits32.double() - logits).abs().max() / logits.abs().max()).item()
                relm = ((logits_m - logits).abs().max() / logits.abs().max()).item()
                assert rel32 < 1e-5, (kind, b["name"], rel32)
                assert relm < 1e-12, (kind, b["name"], relm)
                change = (logits - base_logits).abs().max().item()
                assert change > 1e-2, (kind, "adapter does not change the logits", change)
                rows.append(collections.OrderedDict([
                    ("name", b["name"]), ("input_ids", b["input_ids"]), ("attention_mask", b["attention_mask"]),
                    ("token_type_ids", b["token_type_ids"]),
                    ("logits", rnd(logits.tolist())), ("base_logits", rnd(base_logits.tolist())),
                    ("pooler_output", rnd(pooled.tolist()))]))
                print(f"{kind:7s} {b['name']:28s} max|logits-base|={change:.4f} fp32 rel={rel32:.1e} "
                      f"merged rel={relm:.1e}")
        merged = collections.OrderedDict()
        with torch.no_grad():
            lay = model64.bert.encoder.layer[0]
            for t in TARGETS:
                w = getattr(lay.attention.self, t).merged_weight()
                merged[f"encoder.layer.0.attention.self.{t}.weight"] = collections.OrderedDict(
                    [("shape", list(w.shape)), ("values", rnd(w.reshape(-1).tolist()))])
        d = os.path.join(outdir, "peft-" + kind)
        os.makedirs(d, exist_ok=True)
        write_safetensors(os.path.join(d, "adapter_model.safetensors"), tensors)
        back = read_safetensors(os.path.join(d, "adapter_model.safetensors"))
        assert set(back) == set(tensors) and all(torch.equal(back[n], tensors[n]) for n in tensors)
        cfg = adapter_config(kind)
        with open(os.path.join(d, "adapter_config.json"), "w", newline="\n") as f:
            f.write(json.dumps(cfg, indent=2) + "\n")
        formula = ("W' = (m / ||W + gamma B A||_row) (.) (W + gamma B A), bias unchanged" if kind == "dora"
                   else "W' = W + gamma B A")
        desc = (f"{kind}: float64 forward of make_peft_reference.py from the float32 base (../text/tiny-bert) and "
                f"adapter tensors in this folder, eval mode (no dropout); logits = classifier(pooler_output); "
                f"base_logits = same classifier on the base model without adapter; merged = layer-0 weights, "
                f"{formula}, row-major flat; 7 significant digits")
        head = collections.OrderedDict([("description", desc), ("kind", kind), ("r", R), ("lora_alpha", ALPHA),
                                        ("scale", scale), ("use_rslora", kind == "rslora"),
                                        ("use_dora", kind == "dora")])
        with open(os.path.join(d, "outputs.json"), "w", newline="\n") as f:
            f.write("{\n" + ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in head.items()))
            f.write(',\n"batches": [\n' + ",\n".join(json.dumps(r, separators=(",", ":")) for r in rows))
            f.write('\n],\n"merged": {\n' + ",\n".join(
                f"{json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in merged.items()))
            f.write("\n}\n}\n")
        print(f"{kind}: scale {scale}, {len(tensors)} tensors -> {d}")


def _double_copy(model32):
    """float64 deep copy of the float32 adapter model (values identical)."""
    import copy
    m = copy.deepcopy(model32).double()
    return m.eval()


if __name__ == "__main__":
    main()
