"""Writes two ordinal data sets beside soup.csv for the AutoML ensemble check (docs/benchmarks.md, "Ensemble selection in
the engine"), each as seed-numbered 70 % / 30 % train and test CSV files with the class in `grade`:

    /usr/bin/python3 tests/Microsoft.ML.PaperExtensions.Benchmarks/reference/ordinal-ensemble/export-datasets.py /tmp/ordinal-ensemble

diabetes: scikit-learn's bundled diabetes data (442 rows, 10 continuous features), the disease-progression target cut at
its quartiles into 4 ordered classes; splits seeds 1-5. synthetic: 2,500 rows, 8 standard normal features, a latent
x0 - 0.8 x1 + 0.6 x2 + 0.4 x3 - 0.3 x4 + 0.2 x5 + 0.8 x0 x1 + logistic noise cut at its 30/60/85/95 % quantiles into 5
ordered classes (the top one rare, 5 %); one data set and split per seed 1-3. python3-sklearn and numpy from Debian.
"""
import os
import sys

import numpy as np
from sklearn.datasets import load_diabetes

folder = sys.argv[1]
os.makedirs(folder, exist_ok=True)


def write(path, x, y, names, digits=6):
    with open(path, "w") as f:
        f.write(",".join(names + ["grade"]) + "\n")
        for row, label in zip(x, y):
            f.write(",".join(f"{v:.{digits}f}" for v in row) + f",{label}\n")


x, target = load_diabetes(return_X_y=True)
classes = 1 + np.searchsorted(np.quantile(target, [0.25, 0.5, 0.75]), target, side="right")
names = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
for seed in range(1, 6):
    order = np.random.RandomState(seed).permutation(len(classes))
    cut = int(0.7 * len(classes))
    write(f"{folder}/diabetes{seed}_train.csv", x[order[:cut]], classes[order[:cut]], names)
    write(f"{folder}/diabetes{seed}_test.csv", x[order[cut:]], classes[order[cut:]], names)

for seed in range(1, 4):
    random = np.random.RandomState(100 + seed)
    n, p = 2500, 8
    x = random.randn(n, p)
    latent = x @ np.array([1.0, -0.8, 0.6, 0.4, -0.3, 0.2, 0, 0]) + 0.8 * x[:, 0] * x[:, 1] + random.logistic(size=n)
    classes = 1 + np.searchsorted(np.quantile(latent, [0.3, 0.6, 0.85, 0.95]), latent, side="right")
    order = random.permutation(n)
    names = [f"x{j}" for j in range(p)]
    write(f"{folder}/synthetic{seed}_train.csv", x[order[:1750]], classes[order[:1750]], names, digits=5)
    write(f"{folder}/synthetic{seed}_test.csv", x[order[1750:]], classes[order[1750:]], names, digits=5)
