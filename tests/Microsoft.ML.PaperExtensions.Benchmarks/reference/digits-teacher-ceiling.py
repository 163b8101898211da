"""How good can WAD's first pseudo-labels be on the digits class-mismatch splits? (docs/benchmarks.md, WAD section)

Independent of the C# code: a PyTorch SCARF teacher written from ../shared/papers/wad.md (sections 3.1, 3.2, 4) with the
package's defaults (4 x 256 encoder + 256 -> 128 head, Xavier, NT-Xent tau 0.5, SCARF corruption 0.6, Adam 1e-3 with weight
decay 1e-6, batch 128, 1,800 steps), and cosine 1-nearest-anchor classification on raw and standardised pixels.
Run once (python3-sklearn and python3-torch from Debian; about 4 minutes per teacher on 2 cores):
    ./build.sh bench digits-splits /tmp/splits 5
    /usr/bin/python3 tests/Microsoft.ML.PaperExtensions.Benchmarks/reference/digits-teacher-ceiling.py \
        samples/data/digits.csv /tmp/splits/digits-splits.csv > tests/Microsoft.ML.PaperExtensions.Benchmarks/reference/digits-teacher-ceiling.csv
Columns: pool = accuracy of the argmax class score on the known-digit rows of the unlabelled pool (WAD's first-round
pseudo-labels), test = the same 1-nearest-anchor rule on the test rows, weightKnown / weightUnknown = mean top-2 margin.
"""
import csv
import math
import sys
from collections import defaultdict

import numpy as np
import torch

KNOWN = 6
torch.set_num_threads(2)
digits = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
x_all, y_all = digits[:, :64], digits[:, 64].astype(int)
splits = defaultdict(lambda: defaultdict(list))
with open(sys.argv[2]) as f:
    for row in csv.DictReader(f):
        splits[(row["rho"], int(row["seed"]))][row["role"]].append(int(row["row"]))


def nearest_anchor(queries, anchors, anchor_classes):
    """s_k = max cosine to the anchors of class k: [rows, K]."""
    def unit(v):
        return v / (np.linalg.norm(v, axis=1, keepdims=True) + 1e-8)
    s = unit(queries) @ unit(anchors).T
    return np.stack([s[:, anchor_classes == k].max(1) for k in range(KNOWN)], 1)


def summary(pool_scores, test_scores, pool_y, test_y):
    known = pool_y < KNOWN
    top = np.sort(pool_scores, 1)
    w = top[:, -1] - top[:, -2]
    return (np.mean(pool_scores.argmax(1)[known] == pool_y[known]), np.mean(test_scores.argmax(1) == test_y),
            w[known].mean(), w[~known].mean() if (~known).any() else float("nan"))


def scarf_teacher(x, seed, corruption=0.6, tau=0.5, steps=1800, width=256, projection=128, batch=128):
    """Returns the embedding function of a trained SCARF teacher (normalised projection output)."""
    n, p = x.shape
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    sizes = [p, width, width, width, width, width, projection]
    layers = []
    for i in range(len(sizes) - 1):
        linear = torch.nn.Linear(sizes[i], sizes[i + 1])
        torch.nn.init.xavier_uniform_(linear.weight)
        torch.nn.init.zeros_(linear.bias)
        layers.append(linear)
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-6)
    replaced = int(math.floor(corruption * p))
    columns = torch.arange(p).expand(batch, p)
    targets = torch.cat([torch.arange(batch, 2 * batch), torch.arange(0, batch)])
    step = 0
    while step < steps:
        order = torch.randperm(n, generator=g)
        for b in range(n // batch):
            if step == steps:
                break
            clean = x[order[b * batch:(b + 1) * batch]]
            mask = torch.zeros(batch, p, dtype=torch.bool)
            mask.scatter_(1, torch.rand(batch, p, generator=g).argsort(1)[:, :replaced], True)
            corrupted = torch.where(mask, x[torch.randint(n, (batch, p), generator=g), columns], clean)
            z = torch.nn.functional.normalize(torch.cat([net(clean), net(corrupted)]), dim=1, eps=1e-8)
            similarity = (z @ z.t() / tau).fill_diagonal_(-float("inf"))
            loss = torch.nn.functional.cross_entropy(similarity, targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
    net.eval()
    return lambda v: net(torch.tensor(v, dtype=torch.float32)).detach().numpy()


teacher_runs = {("0.6", 1), ("0.6", 2), ("0.6", 3)}
print(f"# torch {torch.__version__}")
print("rho,seed,features,pool,test,weightKnown,weightUnknown")
for (rho, seed), roles in sorted(splits.items()):
    labeled, unlabeled, test = roles["labeled"], roles["unlabeled"], roles["test"]
    train = x_all[labeled + unlabeled]
    mean, sd = train.mean(0), train.std(0)
    sd[sd == 0] = 1
    features = {"raw": lambda v: v, "standardised": lambda v: (v - mean) / sd}
    if (rho, seed) in teacher_runs:
        embed = scarf_teacher(torch.tensor((train - mean) / sd, dtype=torch.float32), seed)
        features["scarf-teacher"] = lambda v: embed((v - mean) / sd)
    for name, f in features.items():
        anchors = f(x_all[labeled])
        result = summary(nearest_anchor(f(x_all[unlabeled]), anchors, y_all[labeled]),
                         nearest_anchor(f(x_all[test]), anchors, y_all[labeled]), y_all[unlabeled], y_all[test])
        print(f"{rho},{seed},{name}," + ",".join(f"{v:.4f}" for v in result), flush=True)
