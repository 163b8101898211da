#!/usr/bin/env bash
# The ensemble check on the exported data sets (export-datasets.py): for each split, PRESTO's defaults (mlnet-papers ordinal,
# test Brier computed by score.py from its predictions), the AutoML search (30 trials, the default CFO) with ensemble selection
# (--ensemble 20, whatever the task's default for the size) and the same search with --ensemble 0. Usage: run.sh <folder of export-datasets.py> <path of mlnet-papers>
set -euo pipefail
folder=$1; cli=$2
for s in 1 2 3 4 5; do
  args=(--label grade --max-trials 30 --time-budget 900 --seed "$s" --json)
  for set in diabetes synthetic; do
    [[ -f $folder/${set}${s}_train.csv ]] || continue
    features=$(head -1 "$folder/${set}${s}_train.csv" | sed 's/,grade$//')
    folds=(); [[ $set == synthetic ]] && folds=(--cv-folds 3)
    "$cli" ordinal --data "$folder/${set}${s}_train.csv" --label grade --features "$features" --predict "$folder/${set}${s}_test.csv" --out "$folder/${set}${s}_presto.csv" --seed "$s" --json > /dev/null
    "$cli" automl --task ordinal --data "$folder/${set}${s}_train.csv" --features "$features" --test "$folder/${set}${s}_test.csv" "${folds[@]}" --ensemble 20 "${args[@]}" > "$folder/${set}${s}_ensemble.json"
    "$cli" automl --task ordinal --data "$folder/${set}${s}_train.csv" --features "$features" --test "$folder/${set}${s}_test.csv" "${folds[@]}" --ensemble 0 "${args[@]}" > "$folder/${set}${s}_single.json"
  done
done
