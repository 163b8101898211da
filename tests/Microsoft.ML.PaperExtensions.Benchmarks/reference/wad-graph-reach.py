"""Why WAD-graph's neighbour student trailed label spreading at rho 0.6 on digits, and why its teacher now stops as label
spreading does (docs/benchmarks.md, "The teacher stops where label spreading stops"). numpy / scikit-learn only; no
promotions (each row is round 1 of WAD-graph: the teacher's spread distributions, then a 7-NN vote in raw pixels where the
labelled rows vote 1 for their class and each pool row its top-2 margin for its best class; rows with margin 0 do not vote).

    ./build.sh bench digits-splits /tmp/splits 15
    /usr/bin/python3 tests/Microsoft.ML.PaperExtensions.Benchmarks/reference/wad-graph-reach.py \
        samples/data/digits.csv /tmp/splits/digits-splits.csv > tests/Microsoft.ML.PaperExtensions.Benchmarks/reference/wad-graph-reach.txt

Seeds 6-15 only (validation and the block that showed the gap). The spreading is wad-graph-diagnostics.py's (LabelSpreadingGraph's
semantics) run for a fixed number of iterations; scikit-learn's LabelSpreading stops once the summed change is below
tol = 1e-3, after about 6 iterations at alpha 0.2, which leaves the rows more than about 6 graph steps from every label
at zero mass: they get margin 0 and no vote.
"""
import csv
import sys
import warnings
from collections import defaultdict

import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.semi_supervised import LabelSpreading

warnings.filterwarnings("ignore")
d = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
X, y = d[:, :64], d[:, 64].astype(int)
splits = defaultdict(lambda: defaultdict(list))
with open(sys.argv[2]) as f:
    for r in csv.DictReader(f):
        splits[(r["rho"], int(r["seed"]))][r["role"]].append(int(r["row"]))


def knn(F, k):
    n2 = (F ** 2).sum(1)
    return np.argsort(n2[None, :] - 2 * F @ F.T, 1, kind="stable")[:, :k]


def spread(nb, Y, alpha, iters):
    n = nb.shape[0]
    off = nb != np.arange(n)[:, None]
    deg = np.bincount(nb[off], minlength=n).astype(float)
    sc = np.sqrt(np.where(deg == 0, 1, deg))
    F = Y.copy()
    for _ in range(iters):
        F = alpha * ((F / sc[:, None])[nb] * off[:, :, None]).sum(1) / sc[:, None] + (1 - alpha) * Y
    m = F.sum(1, keepdims=True)
    return F / np.where(m == 0, 1, m)


def student(L, U, T, D):
    s = np.sort(D, 1)
    V = np.vstack([np.eye(6)[y[L]], np.eye(6)[D.argmax(1)] * (s[:, -1] - s[:, -2])[:, None]])
    keep = V.sum(1) > 0
    idx = NearestNeighbors(n_neighbors=7).fit(X[L + U][keep]).kneighbors(X[T], return_distance=False)
    return (V[keep][idx].sum(1).argmax(1) == y[T]).mean()


variants = [(10, 0.5, 100), (7, 0.2, 100), (7, 0.2, 15), (7, 0.2, 8), (7, 0.2, 6), (7, 0.2, 4)]
print("rho,teacher,meanTestAccuracy,minusLabelSpreading,seWinsTiesLosses,unreachedKnownPool,unreachedUnknownPool")
for rho in ["0.3", "0.6"]:
    rows, iterations = [], []
    for seed in range(6, 16):
        R = splits[(rho, seed)]
        L, U, T = R["labeled"], R["unlabeled"], R["test"]
        ls = LabelSpreading(kernel="knn", n_neighbors=7, alpha=0.2, max_iter=30).fit(X[L + U], np.r_[y[L], -np.ones(len(U), int)])
        Dls = ls.label_distributions_[len(L):]
        known = y[U] < 6
        unreached = ((Dls[known].sum(1) == 0).mean(), (Dls[~known].sum(1) == 0).mean())
        iterations.append(ls.n_iter_)
        r = {"label spreading (scikit-learn)": ((ls.predict(X[T]) == y[T]).mean(), *unreached),
             "scikit-learn's distributions with WAD-graph's student": (student(L, U, T, Dls), *unreached)}
        Y = np.zeros((len(L) + len(U), 6))
        Y[np.arange(len(L)), y[L]] = 1
        for k, alpha, iters in variants:
            D = spread(knn(X[L + U], k), Y, alpha, iters)[len(L):]
            r[f"k {k} alpha {alpha} {iters} iterations"] = (student(L, U, T, D), (D[known].sum(1) == 0).mean(), (D[~known].sum(1) == 0).mean())
        rows.append(r)
    print(f"# rho {rho}: scikit-learn stopped after {min(iterations)} to {max(iterations)} iterations")
    base = np.array([r["label spreading (scikit-learn)"][0] for r in rows])
    for name in rows[0]:
        acc = np.array([r[name][0] for r in rows])
        diff = acc - base
        print(f"{rho},{name},{acc.mean():.4f},{diff.mean():+.4f},se {diff.std(ddof=1) / np.sqrt(len(diff)):.4f} {(diff > 1e-4).sum()}/{(abs(diff) <= 1e-4).sum()}/{(diff < -1e-4).sum()},"
              f"{np.mean([r[name][1] for r in rows]):.3f},{np.mean([r[name][2] for r in rows]):.3f}")
