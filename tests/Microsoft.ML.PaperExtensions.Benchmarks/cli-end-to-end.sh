#!/usr/bin/env bash
# The command line on real-size files, against R, in one run (docs/benchmarks.md, "The command line on large files"):
#   1. one million rows x 12 columns: `mlnet-papers survival` (read + Weibull fit) against R read.csv + survreg, same file;
#   2. peak memory of `survival` and `ordinal` on 3.3 million rows x 7 columns (about 190 MB of CSV), and the process's
#      baseline (`mlnet-papers info`: libtorch loaded, no data);
#   3. the one-million-row fit beside a CPU-bound neighbour process (`yes`), with the runtime's passive OpenMP wait, with
#      OpenMP's default, and with OMP_WAIT_POLICY=ACTIVE.
# Needs /usr/bin/python3 with numpy (data), R with the survival package, GNU time. Usage: cli-end-to-end.sh [workdir]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-$(mktemp -d)}
cd "$work"
dotnet build "$repo/samples/PaperExtensions.Cli" -c Release -v quiet -nologo > /dev/null
cli="$repo/samples/PaperExtensions.Cli/bin/Release/net10.0/mlnet-papers"
/usr/bin/python3 - <<'PY'
import numpy as np
def write(n, p, out):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, p)); beta = rng.normal(scale=0.3, size=p)
    t = (-np.log(rng.random(n)) / np.exp(-2 + X @ beta)) ** (1 / 1.3) * 30
    c = rng.exponential(60, size=n)
    with open(out, 'w') as f:
        f.write(','.join(['time', 'event'] + [f'x{j}' for j in range(p)]) + '\n')
        np.savetxt(f, np.column_stack([np.minimum(t, c), (t <= c).astype(int), X]), fmt=['%.6g', '%d'] + ['%.6g'] * p, delimiter=',')
write(1_000_000, 10, 'm12.csv'); write(3_300_000, 5, 'big7.csv')
PY
ls -l m12.csv big7.csv
cat > survreg.R <<'R'
suppressMessages(library(survival))
t0 <- Sys.time(); d <- read.csv("m12.csv"); t1 <- Sys.time()
f <- survreg(Surv(time, event) ~ x0+x1+x2+x3+x4+x5+x6+x7+x8+x9, data = d, dist = "weibull"); t2 <- Sys.time()
cat(sprintf("R read.csv %.2f s + survreg %.2f s = %.2f s, logLik %.4f\n", as.numeric(t1 - t0, units = "secs"), as.numeric(t2 - t1, units = "secs"),
            as.numeric(t2 - t0, units = "secs"), f$loglik[2]))
R
ph=x0,x1,x2,x3,x4,x5,x6,x7,x8,x9
fit() { /usr/bin/time -f "%e s wall, %M KB peak" "$cli" survival --data m12.csv --time time --event event --ph $ph --kappa 1 --json 2>&1 >/dev/null | tail -1; }
for i in 1 2; do Rscript survreg.R; echo "mlnet-papers survival (read + fit): $(fit)"; done
"$cli" survival --data m12.csv --time time --event event --ph $ph --kappa 1 --json 2>/dev/null | grep logLikelihood
echo "baseline (info): $(/usr/bin/time -f "%M KB peak" "$cli" info --json 2>&1 >/dev/null | tail -1)"
echo "survival, 3.3M x 7: $(/usr/bin/time -f "%e s wall, %M KB peak" "$cli" survival --data big7.csv --time time --event event --ph x0,x1,x2,x3,x4 --kappa 1 --json 2>&1 >/dev/null | tail -1)"
echo "ordinal, 3.3M x 7: $(/usr/bin/time -f "%e s wall, %M KB peak" "$cli" ordinal --data big7.csv --label event --features x0,x1,x2,x3,x4 --n-lambda 5 --json 2>&1 >/dev/null | tail -1)"
echo "quiet machine: passive $(fit) | OpenMP default $(OMP_WAIT_POLICY=openmp-default fit) | active $(OMP_WAIT_POLICY=ACTIVE fit)"
yes > /dev/null & neighbour=$!
trap 'kill $neighbour 2>/dev/null' EXIT
sleep 1
echo "busy neighbour: passive $(fit) | OpenMP default $(OMP_WAIT_POLICY=openmp-default fit) | active $(OMP_WAIT_POLICY=ACTIVE fit)"
