#!/usr/bin/env python3
# PyTorch baseline for the LoRA fine-tuning benchmark: all-MiniLM-L6-v2 (Hugging Face BertModel layout) fine-tuned on
# fine_foods_train.csv for binary classification (label "great" = 1, "other" = 0), evaluated on fine_foods_test.csv.
# Everything is our own code: a plain-PyTorch BERT encoder (weights read from model.safetensors by hand), LoRA layers,
# bucketing, schedule and metrics; the tokenizer is the reference WordPiece implementation in
# tests/Microsoft.ML.PaperExtensions.Tests/Data/reference/text/wordpiece_reference.py (imported).
# Runs on Debian bookworm's /usr/bin/python3 (python3-torch 1.13, CPU); no other packages.
#
# BLAS (important for a fair baseline): Debian's python3-torch 1.13 is built with BLAS_INFO=generic and calls whatever
# libblas.so.3 the system alternative points to. The default is the netlib reference BLAS: one-thread sgemm 3.3 GFLOPS
# vs 16.8 with OpenBLAS on this machine, and this script ran 6.2x slower with it (0.80 vs 5.0 samples/s). Use
# OpenBLAS, either system-wide (apt-get install libopenblas0-pthread; it takes over the libblas.so.3 alternative) or
# for this process only, without touching the system:
#     apt-get download libopenblas0-pthread && dpkg -x libopenblas0-pthread_*.deb /tmp/openblas
#     export LD_LIBRARY_PATH=/tmp/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread
# The output field "blas" names the libraries actually loaded; a warning goes to stderr when it is the netlib one.
# OPENBLAS_NUM_THREADS is set from --threads before torch loads.
#
# Commands (from the repository root, with LD_LIBRARY_PATH as above; the model folder is not in the repository):
#   full benchmark, LoRA, 1 thread / 2 threads (1 epoch = 250 steps + test evaluation):
#     /usr/bin/python3 -B tests/Microsoft.ML.PaperExtensions.Benchmarks/reference/finetune/pytorch_finetune.py \
#         --method lora --threads 1 --seed 1 --model-dir /work/scratch/models/minilm/hf
#     /usr/bin/python3 -B tests/Microsoft.ML.PaperExtensions.Benchmarks/reference/finetune/pytorch_finetune.py \
#         --method lora --threads 2 --seed 1 --model-dir /work/scratch/models/minilm/hf
#   full fine-tuning for comparison (default lr 5e-5 for --method full, see below):
#     /usr/bin/python3 -B tests/Microsoft.ML.PaperExtensions.Benchmarks/reference/finetune/pytorch_finetune.py \
#         --method full --threads 2 --seed 1
#   short timing run (20 steps, no evaluation; samples/s over steps 6..20, plus an epoch-time estimate):
#     /usr/bin/python3 -B tests/Microsoft.ML.PaperExtensions.Benchmarks/reference/finetune/pytorch_finetune.py \
#         --method lora --threads 1 --max-steps 20
#   other switches: --pooling mean|cls|pooler, --lr, --batch-size, --max-length, --epochs, --rank, --alpha,
#     --lora-dropout, --eval (also evaluate after --max-steps), --train/--test CSV paths, --model-dir.
#   Defaults: --model-dir /work/scratch/models/minilm/hf, --train/--test /work/shared/data/fine_foods_{train,test}.csv.
#
# Setup (defaults):
#   encoder   all-MiniLM-L6-v2: 6 layers, H 384, 12 heads, FFN 1536, post-LN, GELU (erf), dropout 0.1 (hidden and
#             attention probabilities) in training, attention mask added as -1e9 on padded keys.
#   LoRA      rank 8, alpha 16 (gamma = alpha / r = 2), dropout 0.1 on the input of A, on attention.self.query and
#             attention.self.value of every layer; A = kaiming_uniform_(a = sqrt 5) = U(+-1/sqrt(in)), B = 0;
#             base weights frozen. --method full trains every parameter instead (no adapters).
#   head      classifier Linear(384, 2) (normal(0, 0.02) weights, zero bias) on dropout(pooled), pooled =
#             attention-masked mean of the last hidden states (--pooling mean, default), or the [CLS] hidden state
#             (--pooling cls), or BERT's pooler tanh(dense(h_cls)) (--pooling pooler; the pooler is then trainable
#             only with --method full).
#   optimizer AdamW (torch.optim.AdamW, betas 0.9/0.999, eps 1e-8), lr 5e-4 for lora (5e-5 for full unless --lr),
#             weight decay 0.01 on matrices (weights with dim >= 2, i.e. lora_A, lora_B, classifier.weight, and all
#             Linear/embedding weights in full mode), none on biases and LayerNorm parameters (Hugging Face Trainer
#             convention); gradient clipping to total norm 1.0.
#   schedule  linear warm-up over ceil(10% of the total steps) then linear decay to 0 (Hugging Face
#             get_linear_schedule_with_warmup: lr factor step/warmup, then (total - step)/(total - warmup)); total
#             steps = steps of the full run (epochs x batches), also when --max-steps stops early.
#   batches   batch 16, max length 128 tokens including [CLS] and [SEP] (longer reviews are truncated), padded per
#             batch; sort-by-length bucketing: shuffle the rows (seeded), stable-sort by token count, cut into
#             consecutive batches of 16, shuffle the batch order (re-done every epoch).
#   seed      --seed (default 1) seeds Python's random (shuffles) and torch (classifier init, LoRA A, dropout).
# Output: one JSON object on stdout (progress on stderr): train_seconds (whole training loop, all steps),
#   samples_per_second (training rows / s over the timed steps = all steps after the first 5 warm-up steps),
#   trainable_params, total_params (frozen + trainable; LoRA adds its adapters to the total), peak_rss_mb
#   (getrusage ru_maxrss), est_epoch_seconds (timed seconds scaled by padded tokens of one epoch / timed padded
#   tokens), and without --max-steps (or with --eval): test_accuracy, test_macro_f1, eval_seconds.
import argparse
import csv
import json
import math
import os
import random
import resource
import struct
import sys
import time

sys.dont_write_bytecode = True
# OpenBLAS (pthreads build) sizes its thread pool when the library loads: set it from --threads before importing torch.
_pre = argparse.ArgumentParser(add_help=False)
_pre.add_argument("--threads", type=int, default=1)
os.environ["OPENBLAS_NUM_THREADS"] = str(max(1, _pre.parse_known_args()[0].threads))
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "Microsoft.ML.PaperExtensions.Tests", "Data", "reference", "text"))
import wordpiece_reference as wp  # noqa: E402

LABELS = {"other": 0, "great": 1}


# ---------------------------------------------------------------- weights
def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n).decode("utf-8"))
        data = f.read()
    dt = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I64": "<i8"}
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        a = np.frombuffer(data, dtype=dt[v["dtype"]], count=(e - b) // np.dtype(dt[v["dtype"]]).itemsize, offset=b)
        out[k] = torch.from_numpy(a.reshape(v["shape"]).astype(np.float32))
    return out


# ---------------------------------------------------------------- model
class Box(torch.nn.Module):
    """plain container so that parameter names follow the Hugging Face layout"""


class LoraLinear(torch.nn.Module):
    def __init__(self, base, r, alpha, p):
        super().__init__()
        self.weight = base.weight            # frozen base, names stay "...query.weight" / ".bias"
        self.bias = base.bias
        self.weight.requires_grad_(False)
        self.bias.requires_grad_(False)
        out_f, in_f = base.weight.shape
        self.lora_A = torch.nn.Parameter(torch.empty(r, in_f))
        self.lora_B = torch.nn.Parameter(torch.zeros(out_f, r))
        bound = math.sqrt(1.0 / 3.0) * math.sqrt(3.0 / in_f)          # kaiming_uniform_(a = sqrt 5)
        with torch.no_grad():
            self.lora_A.uniform_(-bound, bound)
        self.scale = alpha / r
        self.drop = torch.nn.Dropout(p)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias) + self.scale * F.linear(F.linear(self.drop(x), self.lora_A),
                                                                           self.lora_B)


class Bert(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        H, Fi, eps = c["hidden_size"], c["intermediate_size"], c["layer_norm_eps"]
        self.h = c["num_attention_heads"]
        self.d = H // self.h
        self.p_hidden = c["hidden_dropout_prob"]
        self.p_attn = c["attention_probs_dropout_prob"]
        self.embeddings = Box()
        self.embeddings.word_embeddings = torch.nn.Embedding(c["vocab_size"], H)
        self.embeddings.position_embeddings = torch.nn.Embedding(c["max_position_embeddings"], H)
        self.embeddings.token_type_embeddings = torch.nn.Embedding(c["type_vocab_size"], H)
        self.embeddings.LayerNorm = torch.nn.LayerNorm(H, eps=eps)
        self.encoder = Box()
        self.encoder.layer = torch.nn.ModuleList()
        for _ in range(c["num_hidden_layers"]):
            lay = Box()
            lay.attention = Box()
            lay.attention.self = Box()
            lay.attention.self.query = torch.nn.Linear(H, H)
            lay.attention.self.key = torch.nn.Linear(H, H)
            lay.attention.self.value = torch.nn.Linear(H, H)
            lay.attention.output = Box()
            lay.attention.output.dense = torch.nn.Linear(H, H)
            lay.attention.output.LayerNorm = torch.nn.LayerNorm(H, eps=eps)
            lay.intermediate = Box()
            lay.intermediate.dense = torch.nn.Linear(H, Fi)
            lay.output = Box()
            lay.output.dense = torch.nn.Linear(Fi, H)
            lay.output.LayerNorm = torch.nn.LayerNorm(H, eps=eps)
            self.encoder.layer.append(lay)
        self.pooler = Box()
        self.pooler.dense = torch.nn.Linear(H, H)

    def forward(self, ids, mask, types):
        e = self.embeddings
        N, T = ids.shape
        tr = self.training
        x = e.word_embeddings(ids) + e.position_embeddings(torch.arange(T)) + e.token_type_embeddings(types)
        x = F.dropout(e.LayerNorm(x), self.p_hidden, tr)
        add_mask = (1.0 - mask[:, None, None, :].to(x.dtype)) * -1e9
        H, d, h = self.h * self.d, self.d, self.h
        for lay in self.encoder.layer:
            s = lay.attention.self
            q = s.query(x).view(N, T, h, d).transpose(1, 2)
            k = s.key(x).view(N, T, h, d).transpose(1, 2)
            v = s.value(x).view(N, T, h, d).transpose(1, 2)
            p = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + add_mask, dim=-1)
            ctx = torch.matmul(F.dropout(p, self.p_attn, tr), v).transpose(1, 2).reshape(N, T, H)
            a = lay.attention.output.LayerNorm(F.dropout(lay.attention.output.dense(ctx), self.p_hidden, tr) + x)
            u = F.gelu(lay.intermediate.dense(a))                                   # exact (erf) GELU
            x = lay.output.LayerNorm(F.dropout(lay.output.dense(u), self.p_hidden, tr) + a)
        return x


class Classifier(torch.nn.Module):
    def __init__(self, bert, num_labels, pooling, p):
        super().__init__()
        self.bert = bert
        H = bert.h * bert.d
        self.classifier = torch.nn.Linear(H, num_labels)
        with torch.no_grad():
            self.classifier.weight.normal_(0.0, 0.02)
            self.classifier.bias.zero_()
        self.pooling = pooling
        self.drop = torch.nn.Dropout(p)

    def forward(self, ids, mask, types):
        x = self.bert(ids, mask, types)
        if self.pooling == "mean":
            m = mask.to(x.dtype)[:, :, None]
            pooled = (x * m).sum(1) / m.sum(1).clamp(min=1.0)
        elif self.pooling == "cls":
            pooled = x[:, 0]
        else:
            pooled = torch.tanh(self.bert.pooler.dense(x[:, 0]))
        return self.classifier(self.drop(pooled))


def build_model(args, cfg):
    bert = Bert(cfg)
    w = read_safetensors(os.path.join(args.model_dir, "model.safetensors"))
    w = {k[5:] if k.startswith("bert.") else k: v for k, v in w.items()}
    w = {k.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias"): v
         for k, v in w.items()}
    own = bert.state_dict()
    missing = [k for k in own if k not in w]
    unexpected = [k for k in w if k not in own]
    if missing:
        raise SystemExit(f"missing weights: {missing[:5]}")
    if unexpected:
        print(f"ignored {len(unexpected)} unexpected keys, e.g. {unexpected[:3]}", file=sys.stderr)
    bert.load_state_dict({k: w[k] for k in own}, strict=True)
    if args.method == "lora":
        for p in bert.parameters():
            p.requires_grad_(False)
        for lay in bert.encoder.layer:
            for t in ("query", "value"):
                setattr(lay.attention.self, t, LoraLinear(getattr(lay.attention.self, t), args.rank, args.alpha,
                                                          args.lora_dropout))
    model = Classifier(bert, len(LABELS), args.pooling, cfg["hidden_dropout_prob"])
    if args.method == "lora" or args.pooling != "pooler":
        for p in bert.pooler.parameters():        # unused (mean / cls) or frozen (lora): no optimizer state
            p.requires_grad_(False)
    return model


# ---------------------------------------------------------------- data
def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [LABELS[r["label"]] for r in rows]


def encode_all(texts, vocab, max_len):
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    out = []
    for t in texts:
        ids = [vocab[p] for p in wp.tokenize(t, vocab)][: max_len - 2]
        out.append([cls] + ids + [sep])
    return out


def make_batches(lengths, batch_size, rng):
    idx = list(range(len(lengths)))
    rng.shuffle(idx)                                     # random order inside equal lengths
    idx.sort(key=lambda i: lengths[i])                   # stable
    batches = [idx[i:i + batch_size] for i in range(0, len(idx), batch_size)]
    rng.shuffle(batches)
    return batches


def collate(rows, encoded, labels=None):
    T = max(len(encoded[i]) for i in rows)
    ids = torch.zeros(len(rows), T, dtype=torch.long)
    mask = torch.zeros(len(rows), T, dtype=torch.long)
    for j, i in enumerate(rows):
        e = encoded[i]
        ids[j, : len(e)] = torch.tensor(e)
        mask[j, : len(e)] = 1
    y = None if labels is None else torch.tensor([labels[i] for i in rows])
    return ids, mask, torch.zeros_like(ids), y


# ---------------------------------------------------------------- metrics
def macro_f1(y, p, k=2):
    f1s = []
    for c in range(k):
        tp = sum(1 for a, b in zip(y, p) if a == c and b == c)
        fp = sum(1 for a, b in zip(y, p) if a != c and b == c)
        fn = sum(1 for a, b in zip(y, p) if a == c and b != c)
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(f1s) / k


def evaluate(model, encoded, labels, batch=64):
    model.eval()
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    pred = [0] * len(encoded)
    with torch.no_grad():
        for s in range(0, len(order), batch):
            rows = order[s:s + batch]
            ids, mask, types, _ = collate(rows, encoded)
            for i, c in zip(rows, model(ids, mask, types).argmax(-1).tolist()):
                pred[i] = c
    acc = sum(1 for a, b in zip(labels, pred) if a == b) / len(labels)
    return acc, macro_f1(labels, pred)


# ---------------------------------------------------------------- environment
def blas_library():
    """path of the BLAS shared library actually mapped into this process (torch 1.13 from Debian: BLAS_INFO=generic)"""
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({ln.split()[-1] for ln in f if "blas" in ln.lower() and ".so" in ln})
        libs = [p for p in libs if "lapack" not in os.path.basename(p)]
        return libs[0] if len(libs) == 1 else libs
    except OSError:
        return None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.startswith("model name"):
                    return ln.split(":", 1)[1].strip()
    except OSError:
        return None


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return [float(v) for v in f.read().split()[:3]]
    except OSError:
        return None


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--method", choices=["lora", "full"], default="lora")
    ap.add_argument("--pooling", choices=["mean", "cls", "pooler"], default="mean")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-steps", type=int, default=0, help="stop after N optimizer steps (timing run); 0 = all")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--eval", action="store_true", help="evaluate on the test set even with --max-steps")
    ap.add_argument("--model-dir", default="/work/scratch/models/minilm/hf")
    ap.add_argument("--train", default="/work/shared/data/fine_foods_train.csv")
    ap.add_argument("--test", default="/work/shared/data/fine_foods_test.csv")
    ap.add_argument("--lr", type=float, default=None, help="default 5e-4 (lora) / 5e-5 (full)")
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--warmup-ratio", type=float, default=0.1)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--alpha", type=float, default=16.0)
    ap.add_argument("--lora-dropout", type=float, default=0.1)
    args = ap.parse_args()
    if args.lr is None:
        args.lr = 5e-4 if args.method == "lora" else 5e-5
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    load_start = loadavg()
    blas = blas_library()
    if any("/blas/libblas" in p for p in ([blas] if isinstance(blas, str) else blas or [])):
        print(f"WARNING: {blas} is the netlib reference BLAS (~5x slower matmuls than OpenBLAS); see the header "
              f"for LD_LIBRARY_PATH / libopenblas0-pthread", file=sys.stderr)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)

    t0 = time.perf_counter()
    with open(os.path.join(args.model_dir, "config.json")) as f:
        cfg = json.load(f)
    model = build_model(args, cfg)
    load_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    vocab = wp.load_vocab(os.path.join(args.model_dir, "vocab.txt"))
    tr_text, tr_y = read_csv(args.train)
    tr_enc = encode_all(tr_text, vocab, args.max_length)
    do_eval = args.max_steps == 0 or args.eval
    if do_eval:
        te_text, te_y = read_csv(args.test)
        te_enc = encode_all(te_text, vocab, args.max_length)
    tok_s = time.perf_counter() - t0
    lengths = [len(e) for e in tr_enc]

    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    decay = [p for n, p in trainable if p.dim() >= 2]
    no_decay = [p for n, p in trainable if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    steps_per_epoch = math.ceil(len(tr_enc) / args.batch_size)
    total = steps_per_epoch * args.epochs
    warm = math.ceil(args.warmup_ratio * total)

    def lr_factor(step):
        if step < warm:
            return step / max(1, warm)
        return max(0.0, (total - step) / max(1, total - warm))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    params = [p for _, p in trainable]

    # padded tokens of one epoch (bucketed), for the epoch-time estimate
    epoch_tokens = sum(len(b) * max(lengths[i] for i in b)
                       for b in make_batches(lengths, args.batch_size, random.Random(args.seed)))

    model.train()
    step, timed_s, timed_rows, timed_tok, losses = 0, 0.0, 0, 0, []
    t_train = time.perf_counter()
    done = False
    for epoch in range(args.epochs):
        for rows in make_batches(lengths, args.batch_size, rng):
            ts = time.perf_counter()
            ids, mask, types, y = collate(rows, tr_enc, tr_y)
            loss = F.cross_entropy(model(ids, mask, types), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, args.clip)
            opt.step()
            sched.step()
            dt = time.perf_counter() - ts
            losses.append(loss.item())
            if step >= 5:
                timed_s += dt
                timed_rows += len(rows)
                timed_tok += ids.numel()
            step += 1
            if step % 10 == 0:
                print(f"step {step}/{total} loss {sum(losses[-10:]) / 10:.4f} lr {sched.get_last_lr()[0]:.2e} "
                      f"T {ids.shape[1]} {dt:.2f}s", file=sys.stderr)
            if args.max_steps and step >= args.max_steps:
                done = True
                break
        if done:
            break
    train_s = time.perf_counter() - t_train

    n_trainable = sum(p.numel() for p in params)
    n_total = sum(p.numel() for p in model.parameters())
    res = {
        "method": args.method, "pooling": args.pooling, "threads": args.threads, "seed": args.seed,
        "lr": args.lr, "batch_size": args.batch_size, "max_length": args.max_length, "epochs": args.epochs,
        "rank": args.rank if args.method == "lora" else None,
        "alpha": args.alpha if args.method == "lora" else None,
        "steps": step, "steps_per_epoch": steps_per_epoch, "warmup_steps": warm,
        "train_seconds": round(train_s, 3),
        "timed_steps": max(0, step - 5),
        "samples_per_second": round(timed_rows / timed_s, 3) if timed_s > 0 else None,
        "padded_tokens_per_second": round(timed_tok / timed_s, 1) if timed_s > 0 else None,
        "est_epoch_seconds": round(timed_s / timed_tok * epoch_tokens, 1) if timed_tok else None,
        "epoch_padded_tokens": epoch_tokens,
        "mean_loss_last_10": round(sum(losses[-10:]) / len(losses[-10:]), 5),
        "trainable_params": n_trainable, "total_params": n_total,
        "load_seconds": round(load_s, 3), "tokenize_seconds": round(tok_s, 3),
    }
    if do_eval:
        te = time.perf_counter()
        acc, f1 = evaluate(model, te_enc, te_y)
        res.update(test_accuracy=round(acc, 5), test_macro_f1=round(f1, 5),
                   eval_seconds=round(time.perf_counter() - te, 3))
    res["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    res["torch"] = torch.__version__
    res["blas"] = blas
    res["cpu"] = cpu_model()
    res["nproc"] = os.cpu_count()
    res["loadavg_start"] = load_start
    res["loadavg_end"] = loadavg()
    print(json.dumps(res))


if __name__ == "__main__":
    main()
