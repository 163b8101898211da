#!/usr/bin/env python3
# Tiny random BERT fixtures for the TorchSharp text encoder tests.
#
# Regenerate (from this folder; Debian bookworm python3-torch 1.13 + python3-numpy + python3-onnx):
#
#   /usr/bin/python3 make_tiny_bert.py .
#
# Writes (deterministic, seed 20240917):
#   tiny-bert/         vocab.txt, config.json, model.safetensors (HF BertModel names, no "bert." prefix,
#                      pooler included, F32, __metadata__ {"format":"pt"})
#   tiny-bert-legacy/  vocab.txt, config.json, pytorch_model.bin (torch.save(OrderedDict), zip format,
#                      "bert." prefix, LayerNorm.gamma/.beta names, same values)
#   tiny-bert-onnx/    vocab.txt, model.onnx (torch.onnx.export of TinyBert, float32, opset 13, dynamic
#                      batch/sequence axes; outputs last_hidden_state, pooler_output)
#   tiny-bert-reference.json  inputs and float64 outputs (7 significant digits) of three batches.
#
# The forward pass (TinyBert) is an independent plain-PyTorch implementation written from the BERT
# spec, not Hugging Face code:
#   E = LayerNorm(word[ids] + pos[0..T-1] + type[type_ids])
#   per layer: Q,K,V = Linear(H); split into h heads of H/h; scores = QK^T/sqrt(H/h) + mask
#   (mask = 0 where attention_mask = 1, -1e9 where 0); softmax; merge heads;
#   A = LayerNorm(dense(ctx) + X); X' = LayerNorm(dense2(gelu_erf(dense1(A))) + A)
#   pooler = tanh(pooler.dense(X_last[:, 0])).   Dropout is not applied (inference).
# The reference outputs are computed in float64 from the stored float32 weights. Text is
# tokenized with wordpiece_reference.py (same folder) and the tiny vocab.
import collections
import json
import math
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True          # no __pycache__ next to the fixtures
sys.path.insert(0, HERE)
import wordpiece_reference as wp  # noqa: E402

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ("the a cat dog bird fox man child sat run walk jump play read eat drink sleep on in over near "
         "and or but is was are it this that who what very big small red green happy sad good bad old "
         "new quick brown lazy mat house tree car park day night sun water food coffee tea book care "
         "help like love see with to of for from my we they you i he she her his at no").split()
PUNCT = [".", ",", "!", "?", "'"]
PIECES = ("##s ##ed ##ing ##er ##est ##ly ##y ##ness ##ful ##less ##able ##al ##ment ##ion ##ish "
          "##ize ##ist ##ity ##ous ##ive ##en ##es ##d ##r ##n ##t ##e ##a ##o ##i").split()
assert len(set(WORDS)) == len(WORDS) == 80 and len(PIECES) == 30
VOCAB = SPECIAL + WORDS + PUNCT + PIECES

CONFIG = dict(architectures=["BertModel"], model_type="bert", vocab_size=len(VOCAB), hidden_size=32,
              num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, hidden_act="gelu",
              hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, max_position_embeddings=64,
              type_vocab_size=2, layer_norm_eps=1e-12, initializer_range=0.02, pad_token_id=0)


def make_weights(seed=20240917):
    c = CONFIG
    H, F, V, P, TV, L = (c["hidden_size"], c["intermediate_size"], c["vocab_size"],
                         c["max_position_embeddings"], c["type_vocab_size"], c["num_hidden_layers"])
    g = torch.Generator().manual_seed(seed)

    def mat(*shape):
        return torch.randn(*shape, generator=g) * 0.2

    def bias(n):
        return torch.randn(n, generator=g) * 0.05

    def lnw(n):
        return 1.0 + torch.randn(n, generator=g) * 0.1

    w = collections.OrderedDict()
    w["embeddings.word_embeddings.weight"] = mat(V, H)
    w["embeddings.position_embeddings.weight"] = mat(P, H)
    w["embeddings.token_type_embeddings.weight"] = mat(TV, H)
    w["embeddings.LayerNorm.weight"] = lnw(H)
    w["embeddings.LayerNorm.bias"] = bias(H)
    for i in range(L):
        p = f"encoder.layer.{i}."
        for n in ("query", "key", "value"):
            w[p + f"attention.self.{n}.weight"] = mat(H, H)
            w[p + f"attention.self.{n}.bias"] = bias(H)
        w[p + "attention.output.dense.weight"] = mat(H, H)
        w[p + "attention.output.dense.bias"] = bias(H)
        w[p + "attention.output.LayerNorm.weight"] = lnw(H)
        w[p + "attention.output.LayerNorm.bias"] = bias(H)
        w[p + "intermediate.dense.weight"] = mat(F, H)
        w[p + "intermediate.dense.bias"] = bias(F)
        w[p + "output.dense.weight"] = mat(H, F)
        w[p + "output.dense.bias"] = bias(H)
        w[p + "output.LayerNorm.weight"] = lnw(H)
        w[p + "output.LayerNorm.bias"] = bias(H)
    w["pooler.dense.weight"] = mat(H, H)
    w["pooler.dense.bias"] = bias(H)
    return collections.OrderedDict((k, v.float().contiguous()) for k, v in w.items())


# ---------------------------------------------------------------- independent forward
class Lin(torch.nn.Module):
    def __init__(self, o, i):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(o, i))   # [out, in] like torch / HF
        self.bias = torch.nn.Parameter(torch.zeros(o))

    def forward(self, x):
        return torch.matmul(x, self.weight.t()) + self.bias


class LN(torch.nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(n))
        self.bias = torch.nn.Parameter(torch.zeros(n))
        self.eps = eps

    def forward(self, x):
        mu = x.mean(-1, keepdim=True)
        d = x - mu
        var = (d * d).mean(-1, keepdim=True)
        return d / torch.sqrt(var + self.eps) * self.weight + self.bias


class Emb(torch.nn.Module):
    def __init__(self, n, h):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(n, h))


class Box(torch.nn.Module):
    """plain container so parameter names follow the Hugging Face layout"""


class TinyBert(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        H, F, eps = c["hidden_size"], c["intermediate_size"], c["layer_norm_eps"]
        self.h = c["num_attention_heads"]
        self.d = H // self.h                  # Python int: exported as a Reshape constant
        self.embeddings = Box()
        self.embeddings.word_embeddings = Emb(c["vocab_size"], H)
        self.embeddings.position_embeddings = Emb(c["max_position_embeddings"], H)
        self.embeddings.token_type_embeddings = Emb(c["type_vocab_size"], H)
        self.embeddings.LayerNorm = LN(H, eps)
        self.encoder = Box()
        self.encoder.layer = torch.nn.ModuleList()
        for _ in range(c["num_hidden_layers"]):
            lay = Box()
            lay.attention = Box()
            lay.attention.self = Box()
            lay.attention.self.query = Lin(H, H)
            lay.attention.self.key = Lin(H, H)
            lay.attention.self.value = Lin(H, H)
            lay.attention.output = Box()
            lay.attention.output.dense = Lin(H, H)
            lay.attention.output.LayerNorm = LN(H, eps)
            lay.intermediate = Box()
            lay.intermediate.dense = Lin(F, H)
            lay.output = Box()
            lay.output.dense = Lin(H, F)
            lay.output.LayerNorm = LN(H, eps)
            self.encoder.layer.append(lay)
        self.pooler = Box()
        self.pooler.dense = Lin(H, H)

    def forward(self, input_ids, attention_mask, token_type_ids):
        e = self.embeddings
        N, T = input_ids.shape[0], input_ids.shape[1]
        pos = torch.arange(T, device=input_ids.device)
        x = e.word_embeddings.weight[input_ids] + e.position_embeddings.weight[pos] \
            + e.token_type_embeddings.weight[token_type_ids]
        x = e.LayerNorm(x)
        H, d = self.h * self.d, self.d
        add_mask = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -1e9
        for lay in self.encoder.layer:
            s = lay.attention.self

            def heads(t):
                return t.reshape(N, T, self.h, d).permute(0, 2, 1, 3)
            q, k, v = heads(s.query(x)), heads(s.key(x)), heads(s.value(x))
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + add_mask
            p = torch.softmax(scores, dim=-1)
            ctx = torch.matmul(p, v).permute(0, 2, 1, 3).reshape(N, T, H)
            a = lay.attention.output.LayerNorm(lay.attention.output.dense(ctx) + x)
            u = lay.intermediate.dense(a)
            u = 0.5 * u * (1.0 + torch.erf(u / math.sqrt(2.0)))
            x = lay.output.LayerNorm(lay.output.dense(u) + a)
        pooled = torch.tanh(self.pooler.dense(x[:, 0]))
        return x, pooled


def build_model(weights, dtype):
    m = TinyBert(CONFIG)
    m.load_state_dict(weights, strict=True)
    return m.to(dtype).eval()


# ---------------------------------------------------------------- file writers
def write_safetensors(path, tensors, metadata=None):
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    blobs, off = [], 0
    for k in sorted(tensors):
        a = tensors[k].detach().cpu().numpy().astype("<f4")
        b = a.tobytes()
        header[k] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def write_common(d):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "vocab.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(VOCAB) + "\n")


# ---------------------------------------------------------------- batches
def encode(text_a, text_b=None):
    vocab = {t: i for i, t in enumerate(VOCAB)}
    a = [vocab[t] for t in wp.tokenize(text_a, vocab)]
    ids = [vocab["[CLS]"]] + a + [vocab["[SEP]"]]
    types = [0] * len(ids)
    if text_b is not None:
        b = [vocab[t] for t in wp.tokenize(text_b, vocab)]
        ids += b + [vocab["[SEP]"]]
        types += [1] * (len(b) + 1)
    return ids, types


def pad_batch(rows):
    T = max(len(r[0]) for r in rows)
    ids = [r[0] + [0] * (T - len(r[0])) for r in rows]
    types = [r[1] + [0] * (T - len(r[1])) for r in rows]
    mask = [[1] * len(r[0]) + [0] * (T - len(r[0])) for r in rows]
    return ids, mask, types


def long_text(n_tokens):
    vocab = {t: i for i, t in enumerate(VOCAB)}
    base = ("the quick brown fox jumped over the lazy dog and the happy cats played in the green park . "
            "she reads old books , he drinks coffee ! who loves the sadness of a zebra ? it's careless "
            "walking near the big houses at night").split()        # 'zebra' -> [UNK]
    words, k = [], 0
    while True:
        words.append(base[k % len(base)])
        k += 1
        n = len(wp.tokenize(" ".join(words), vocab))
        if n == n_tokens:
            return " ".join(words)
        if n > n_tokens:
            words[-1] = "the"                      # single-token filler
            if len(wp.tokenize(" ".join(words), vocab)) == n_tokens:
                return " ".join(words)
            words.pop()


def batches():
    out = []
    t1 = ["the cats sat on a mat", "dog jumped"]
    out.append(("padded_pair_of_rows", [[t] for t in t1], pad_batch([encode(t) for t in t1])))
    t2 = [("brown fox", "it jumped"),
          ("who is she ?", "my child"),
          ("tea", "coffee")]
    out.append(("sentence_pairs_token_types", [list(p) for p in t2], pad_batch([encode(a, b) for a, b in t2])))
    t3 = long_text(CONFIG["max_position_embeddings"] - 2)
    out.append(("single_row_max_length_64", [[t3]], pad_batch([encode(t3)])))
    return out


def rnd(x):
    if isinstance(x, list):
        return [rnd(v) for v in x]
    return float(f"{x:.7g}")


def write_config(d):
    with open(os.path.join(d, "config.json"), "w", newline="\n") as f:
        f.write(json.dumps(CONFIG, indent=2) + "\n")


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else HERE
    torch.manual_seed(20240917)
    w = make_weights()
    d = os.path.join(outdir, "tiny-bert")                      # Hugging Face folder
    write_common(d)
    write_config(d)
    write_safetensors(os.path.join(d, "model.safetensors"), w, {"format": "pt"})
    d = os.path.join(outdir, "tiny-bert-legacy")               # legacy names, torch.save
    write_common(d)
    write_config(d)
    legacy = collections.OrderedDict(
        ("bert." + k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"),
         v.clone()) for k, v in w.items())
    torch.save(legacy, os.path.join(d, "pytorch_model.bin"))
    m64 = build_model(w, torch.float64)                        # reference outputs (float64)
    rows = []
    with torch.no_grad():
        for name, texts, (ids, mask, types) in batches():
            hs, pooled = m64(torch.tensor(ids), torch.tensor(mask), torch.tensor(types))
            rows.append(dict(name=name, texts=texts, input_ids=ids, attention_mask=mask, token_type_ids=types,
                             last_hidden_state=rnd(hs.tolist()), pooler_output=rnd(pooled.tolist())))
            print(name, "shape", list(hs.shape))
    desc = ("float64 outputs of the independent TinyBert forward in make_tiny_bert.py; weights and config = "
            "tiny-bert/; values rounded to 7 significant digits")
    with open(os.path.join(outdir, "tiny-bert-reference.json"), "w", newline="\n") as f:
        f.write(f'{{\n"description": {json.dumps(desc)},\n"batches": [\n')
        f.write(",\n".join(json.dumps(b, separators=(",", ":")) for b in rows))
        f.write("\n]\n}\n")
    d = os.path.join(outdir, "tiny-bert-onnx")                 # ONNX export (float32)
    write_common(d)
    ids, mask, types = batches()[1][2]
    axes = {"batch": 0, "sequence": 1}
    torch.onnx.export(build_model(w, torch.float32), (torch.tensor(ids), torch.tensor(mask), torch.tensor(types)),
                      os.path.join(d, "model.onnx"), opset_version=13, do_constant_folding=True,
                      input_names=["input_ids", "attention_mask", "token_type_ids"],
                      output_names=["last_hidden_state", "pooler_output"],
                      dynamic_axes={n: {v: k for k, v in axes.items()} for n in
                                    ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")}
                      | {"pooler_output": {0: "batch"}})
    print("vocab", len(VOCAB), "params", sum(v.numel() for v in w.values()))


if __name__ == "__main__":
    main()
