# The baseline of SurvivalMillionRowsBenchmarks: R's survreg on the same million rows, all 20 covariates on the scale
# (survreg has no covariates on the shape). Times the fit only, best of two runs.
#   ./build.sh bench export-survival-csv /tmp/survival-1m.csv
#   Rscript tests/Microsoft.ML.PaperExtensions.Benchmarks/survreg-baseline.R /tmp/survival-1m.csv
suppressMessages(library(survival))
d <- read.csv(commandArgs(trailingOnly = TRUE)[1])
f <- as.formula(paste("Surv(Time, Event) ~", paste(c(paste0("ph", 0:9), paste0("shape", 0:9)), collapse = " + ")))
for (dist in c("weibull", "loglogistic")) {
  times <- sapply(1:2, function(i) system.time(fit <<- survreg(f, data = d, dist = dist))[["elapsed"]])
  cat(sprintf("survreg %s: %.2f s (best of 2), logLik %.2f, %d rows, R %s, survival %s\n", dist, min(times), logLik(fit), nrow(d),
              R.version.string, as.character(packageVersion("survival"))))
}
