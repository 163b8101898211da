"""Why WAD's propagation teacher scored 0.738 on digits, and what limits it after the fix (docs/benchmarks.md,
"WAD with the propagation teacher"). numpy / scikit-learn only; the spreading is re-implemented as LabelSpreadingGraph
does it (kNN graph with each row its own neighbour, in-degree without self-loops, F = alpha S F + (1 - alpha) Y).

    ./build.sh bench digits-splits /tmp/splits 5
    /usr/bin/python3 tests/Microsoft.ML.PaperExtensions.Benchmarks/reference/wad-graph-diagnostics.py \
        samples/data/digits.csv /tmp/splits/digits-splits.csv > tests/Microsoft.ML.PaperExtensions.Benchmarks/reference/wad-graph-diagnostics.txt

1. Round-1 pseudo-labels of the known pool rows and the weight AUROC (known vs unknown) per graph space and alpha.
2. Round 2: promote the 6.4% of the pool with the largest margin (WAD's first promotion fraction), add them as seeds and
   spread again, with one-hot seeds (the old teacher) and with class-balanced seeds (the fix).
3. Student ceiling: an MLP (128, 128) on standardised pixels trained on the labelled rows plus the known pool rows with
   their true labels, with the raw-graph pseudo-labels (known pool rows only, an oracle, or the whole pool), and a 7-NN
   rule in raw pixels on the same pseudo-labels.
"""
import csv
import sys
from collections import defaultdict

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier

d = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
X, y = d[:, :64], d[:, 64].astype(int)
splits = defaultdict(lambda: defaultdict(list))
with open(sys.argv[2]) as f:
    for r in csv.DictReader(f):
        splits[(r["rho"], int(r["seed"]))][r["role"]].append(int(r["row"]))


def knn(F, k):
    n2 = (F ** 2).sum(1)
    return np.argsort(n2[None, :] - 2 * F @ F.T, 1, kind="stable")[:, :k]


def spread(nb, Y, alpha, iters, balanced):
    n = nb.shape[0]
    if balanced:
        Y = Y / np.maximum(Y.sum(0, keepdims=True), 1)
    off = nb != np.arange(n)[:, None]
    deg = np.bincount(nb[off], minlength=n).astype(float)
    sc = np.sqrt(np.where(deg == 0, 1, deg))
    F = Y.copy()
    for _ in range(iters):
        F = alpha * ((F / sc[:, None])[nb] * off[:, :, None]).sum(1) / sc[:, None] + (1 - alpha) * Y
    m = F.sum(1, keepdims=True)
    return F / np.where(m == 0, 1, m)


def space(name, tr):
    if name == "raw":
        return X[tr]
    sd = X[tr].std(0)
    return (X[tr] - X[tr].mean(0)) / np.where(sd == 0, 1, sd)


def setup(rho, seed, sp, k=10):
    R = splits[(rho, seed)]
    L, U, T = R["labeled"], R["unlabeled"], R["test"]
    Y = np.zeros((len(L) + len(U), 6))
    Y[np.arange(len(L)), y[L]] = 1
    return L, U, T, knn(space(sp, L + U), k), Y


print("1. round-1 pseudo-labels (mean over seeds 1-5)")
print("rho,space,alpha,pseudoLabelAccuracyKnown,weightAuroc,meanWeightKnown,meanWeightUnknown")
for rho in ["0.3", "0.6"]:
    for sp in ["raw", "standardised"]:
        for alpha in [0.2, 0.99]:
            out = []
            for seed in range(1, 6):
                L, U, T, nb, Y = setup(rho, seed, sp)
                D = spread(nb, Y, alpha, 100, False)[len(L):]
                kn = y[U] < 6
                s = np.sort(D, 1)
                w = s[:, -1] - s[:, -2]
                out.append(((D.argmax(1)[kn] == y[U][kn]).mean(), roc_auc_score(kn, w), w[kn].mean(), w[~kn].mean()))
            print(f"{rho},{sp},{alpha}," + ",".join(f"{v:.3f}" for v in np.mean(out, 0)))

print("2. round 2 with the promoted rows as seeds: known-pool pseudo-label accuracy (mean over seeds 1-5)")
print("rho,space,alpha,round1,round2OneHot,round2Balanced")
for rho in ["0.3", "0.6"]:
    for sp in ["raw", "standardised"]:
        for alpha in [0.2, 0.99]:
            out = []
            for seed in range(1, 6):
                L, U, T, nb, Y = setup(rho, seed, sp)
                D = spread(nb, Y, alpha, 100, False)[len(L):]
                kn = y[U] < 6
                s = np.sort(D, 1)
                prom = np.argsort(-(s[:, -1] - s[:, -2]), kind="stable")[: int(0.064 * len(U))]
                Y2 = Y.copy()
                Y2[len(L) + prom, D[prom].argmax(1)] = 1
                acc = [(D.argmax(1)[kn] == y[U][kn]).mean()]
                for balanced in (False, True):
                    acc.append((spread(nb, Y2, alpha, 100, balanced)[len(L):].argmax(1)[kn] == y[U][kn]).mean())
                out.append(acc)
            print(f"{rho},{sp},{alpha}," + ",".join(f"{v:.3f}" for v in np.mean(out, 0)))

print("3. student ceiling on the test rows (raw graph, alpha 0.99, k 10, balanced seeds; mean over seeds 1-5)")
print("rho,mlpTrueLabels,mlpPseudoKnownOnly,mlpPseudoWholePool,knn7RawPseudoWholePool")
for rho in ["0.3", "0.6"]:
    out = []
    for seed in range(1, 6):
        L, U, T, nb, Y = setup(rho, seed, "raw")
        tr = L + U
        mu, sd = X[tr].mean(0), np.where(X[tr].std(0) == 0, 1, X[tr].std(0))
        pl = spread(nb, Y, 0.99, 100, True)[len(L):].argmax(1)
        kn = y[U] < 6
        Uk = [u for u, k in zip(U, kn) if k]

        def mlp(rows, labels):
            m = MLPClassifier((128, 128), max_iter=500, random_state=seed).fit((X[rows] - mu) / sd, labels)
            return (m.predict((X[T] - mu) / sd) == y[T]).mean()

        out.append((mlp(L + Uk, np.r_[y[L], y[Uk]]), mlp(L + Uk, np.r_[y[L], pl[kn]]), mlp(L + U, np.r_[y[L], pl]),
                    (KNeighborsClassifier(7).fit(X[L + U], np.r_[y[L], pl]).predict(X[T]) == y[T]).mean()))
    print(f"{rho}," + ",".join(f"{v:.3f}" for v in np.mean(out, 0)))
