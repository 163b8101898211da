"""scikit-learn LabelSpreading and LabelPropagation on digits: the reference outputs of LabelSpreadingTests.

    /usr/bin/python3 tests/Microsoft.ML.PaperExtensions.Tests/Data/reference/semisupervised/label-spreading.py \
        samples/data/digits.csv > tests/Microsoft.ML.PaperExtensions.Tests/Data/reference/semisupervised/label-spreading-digits.csv

(Debian python3-sklearn.) The split is fixed and needs no random numbers: every fifth row (row % 5 == 4) is a test row;
of the others, the first three rows of each digit (in file order) are labelled, the rest are the unlabelled pool.
Features are the raw pixel counts (no scaling). Four models:
  knn: LabelSpreading(kernel='knn', n_neighbors=7, alpha=0.2)  (max_iter=30, tol=1e-3: the defaults)
  rbf: LabelSpreading(kernel='rbf', gamma=0.005, alpha=0.2)
  propKnn: LabelPropagation(kernel='knn', n_neighbors=7)  (max_iter=1000, tol=1e-3: the defaults)
  propRbf: LabelPropagation(kernel='rbf', gamma=0.005)
For each row: its role, the transduced class (labelled and pool rows) or predict() (test rows), and the top probability.
A row no labelled row reaches (an all-zero label distribution; for a test row, neighbours that are all such rows, where
predict_proba divides 0 by 0) is written as class -1 with top probability 0: scikit-learn's argmax would call it the first class.
"""
import sys

import numpy as np
import sklearn
from sklearn.semi_supervised import LabelPropagation, LabelSpreading

digits = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
x, y = digits[:, :64], digits[:, 64].astype(int)
n = len(y)
test = np.arange(n) % 5 == 4
train_rows = np.flatnonzero(~test)
labelled = np.zeros(n, dtype=bool)
for digit in range(10):
    labelled[train_rows[y[train_rows] == digit][:3]] = True
target = np.where(labelled, y, -1)[train_rows]

models = {
    "knn": LabelSpreading(kernel="knn", n_neighbors=7, alpha=0.2),
    "rbf": LabelSpreading(kernel="rbf", gamma=0.005, alpha=0.2),
    "propKnn": LabelPropagation(kernel="knn", n_neighbors=7),
    "propRbf": LabelPropagation(kernel="rbf", gamma=0.005),
}
out = {}
for name, model in models.items():
    model.fit(x[train_rows], target)
    cls = np.full(n, -1)
    top = np.full(n, np.nan)
    reached = model.label_distributions_.sum(axis=1) > 0
    cls[train_rows] = np.where(reached, model.transduction_, -1)
    top[train_rows] = model.label_distributions_.max(axis=1)
    with np.errstate(invalid="ignore"):
        proba = model.predict_proba(x[test])
    scored = np.isfinite(proba).all(axis=1)
    cls[test] = np.where(scored, model.classes_[np.argmax(np.nan_to_num(proba), axis=1)], -1)
    top[test] = np.where(scored, np.nan_to_num(proba).max(axis=1), 0)
    out[name] = (cls, top, model.n_iter_)
    acc_pool = np.mean(cls[train_rows][~labelled[train_rows]] == y[train_rows][~labelled[train_rows]])
    acc_test = np.mean(cls[test] == y[test])
    print(f"# {name}: n_iter {model.n_iter_}, pool accuracy {acc_pool:.4f}, test accuracy {acc_test:.4f}, "
          f"unreached pool rows {np.sum(~reached)}, unscored test rows {np.sum(~scored)}")

print(f"# scikit-learn {sklearn.__version__}, numpy {np.__version__}")
print("row,role,digit," + ",".join(f"{name},{name}Top" for name in models))
for i in range(n):
    role = "test" if test[i] else ("labeled" if labelled[i] else "pool")
    print(f"{i},{role},{y[i]}," + ",".join(f"{out[name][0][i]},{out[name][1][i]:.6f}" for name in models))
