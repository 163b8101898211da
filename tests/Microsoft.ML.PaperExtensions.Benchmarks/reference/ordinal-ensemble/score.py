"""Summarises run.sh: one CSV row per data set and split with the test multi-class Brier score of PRESTO's defaults (from
its predictions), of the AutoML search with ensemble selection and of the same search without it, the trainers chosen and the members.

    /usr/bin/python3 score.py <folder of export-datasets.py and run.sh's outputs>
"""
import csv
import json
import os
import sys

folder = sys.argv[1]
print("set,seed,presto,ensemble,ensembleTrainer,single,singleTrainer,members,ensembleSeconds,singleSeconds")
for name in ("diabetes", "synthetic"):
    for seed in range(1, 6):
        prefix = f"{folder}/{name}{seed}"
        if not os.path.exists(f"{prefix}_single.json"):
            continue
        test = list(csv.DictReader(open(f"{prefix}_test.csv")))
        predicted = list(csv.DictReader(open(f"{prefix}_presto.csv")))
        classes = sorted({int(t["grade"]) for t in test})
        brier = sum(sum((float(p[f"p_{k}"]) - (k == int(t["grade"]))) ** 2 for k in classes) for p, t in zip(predicted, test)) / len(test)
        automl, single = json.load(open(f"{prefix}_ensemble.json")), json.load(open(f"{prefix}_single.json"))
        members = " ".join(f"{m['trainer']}:{m['weight']:.2f}" for m in (automl.get("ensemble") or []))
        print(f"{name},{seed},{brier:.4f},{automl['testMetric']:.4f},{automl['bestTrainer']},{single['testMetric']:.4f},{single['bestTrainer']},{members},{automl['seconds']},{single['seconds']}")
