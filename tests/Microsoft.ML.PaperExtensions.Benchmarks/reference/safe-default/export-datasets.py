"""Writes scikit-learn's bundled data sets (no download) as CSV files for `./build.sh bench safe-default`:

    /usr/bin/python3 tests/Microsoft.ML.PaperExtensions.Benchmarks/reference/safe-default/export-datasets.py /tmp/safe-default

iris (150 rows, 4 continuous features, 3 classes), wine (178 rows, 13 continuous features on very different scales,
3 classes), breast_cancer (569 rows, 30 continuous features, 2 classes), digits (1,797 rows, 64 integer features,
10 classes). The last column, `label`, is the class; python3-sklearn from Debian.
"""
import os
import sys

import numpy as np
from sklearn import datasets

folder = sys.argv[1]
os.makedirs(folder, exist_ok=True)
for name in ("iris", "wine", "breast_cancer", "digits"):
    bunch = getattr(datasets, f"load_{name}")()
    x, y = bunch.data, bunch.target
    header = ",".join([f"f{j}" for j in range(x.shape[1])] + ["label"])
    np.savetxt(os.path.join(folder, f"{name}.csv"), np.column_stack([x, y]), delimiter=",", header=header, comments="", fmt="%.10g")
    print(f"{name}: {x.shape[0]} rows, {x.shape[1]} features, {len(np.unique(y))} classes")
