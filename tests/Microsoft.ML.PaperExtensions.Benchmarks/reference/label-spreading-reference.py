"""scikit-learn LabelSpreading (kNN kernel) on the digits class-mismatch splits, the external reference of docs/benchmarks.md.

Run once, with the splits the C# protocol draws (python3-sklearn from Debian):
    ./build.sh bench digits-splits /tmp/splits 5
    /usr/bin/python3 tests/Microsoft.ML.PaperExtensions.Benchmarks/reference/label-spreading-reference.py \
        samples/data/digits.csv /tmp/splits/digits-splits.csv > tests/Microsoft.ML.PaperExtensions.Benchmarks/reference/label-spreading-digits.csv
Unlabelled rows get y = -1; the model is fitted on labelled + unlabelled rows and scored on the known-class test rows.
"""
import csv
import sys
from collections import defaultdict

import numpy as np
import sklearn
from sklearn.metrics import accuracy_score, f1_score
from sklearn.preprocessing import StandardScaler
from sklearn.semi_supervised import LabelSpreading

digits = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
x, y = digits[:, :64], digits[:, 64].astype(int)
splits = defaultdict(lambda: defaultdict(list))
with open(sys.argv[2]) as f:
    for row in csv.DictReader(f):
        splits[(row["rho"], int(row["seed"]))][row["role"]].append(int(row["row"]))

print(f"# scikit-learn {sklearn.__version__}; LabelSpreading(kernel='knn', n_neighbors=7, alpha=0.2, max_iter=30)")
print("rho,seed,features,accuracy,macroF1")
for (rho, seed), roles in sorted(splits.items()):
    train = roles["labeled"] + roles["unlabeled"]
    target = np.concatenate([y[roles["labeled"]], -np.ones(len(roles["unlabeled"]), dtype=int)])
    test = roles["test"]
    for name, features in (("raw", x), ("standardised", StandardScaler().fit(x[train]).transform(x))):
        model = LabelSpreading(kernel="knn", n_neighbors=7, alpha=0.2, max_iter=30).fit(features[train], target)
        predicted = model.predict(features[test])
        print(f"{rho},{seed},{name},{accuracy_score(y[test], predicted):.4f},{f1_score(y[test], predicted, average='macro'):.4f}")
