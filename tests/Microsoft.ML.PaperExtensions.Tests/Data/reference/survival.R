# Reference fits for the flexible survival trainer's special cases, from R's survival::survreg, on veteran.csv with the
# treatment indicator trt2 = (trt == 2) and the Karnofsky score.
#   Weibull (kappa = 1, features on lambda): beta = -b / scale (intercept included), gamma = 1 / scale.
#   log-logistic (kappa = 0, lambda = 1, features on phi): tau = -b, gamma = 1 / scale.
# Run from this folder: Rscript survival.R > survival.csv
suppressMessages(library(survival))
veteran <- read.csv("../veteran.csv")
veteran$trt2 <- as.numeric(veteran$trt == 2)
out <- function(model, term, value) cat(sprintf("%s,%s,%.12g\n", model, term, value))
cat("model,term,value\n")
ctl <- survreg.control(rel.tolerance = 1e-12, maxiter = 200)
w <- survreg(Surv(time, status) ~ trt2 + karno, data = veteran, dist = "weibull", control = ctl)
out("weibull", "logLik", logLik(w))
out("weibull", "beta0", -coef(w)[["(Intercept)"]] / w$scale)
out("weibull", "beta_trt2", -coef(w)[["trt2"]] / w$scale)
out("weibull", "beta_karno", -coef(w)[["karno"]] / w$scale)
out("weibull", "gamma", 1 / w$scale)
out("weibull", "se_b_trt2", sqrt(vcov(w)["trt2", "trt2"]))
ll <- survreg(Surv(time, status) ~ trt2 + karno, data = veteran, dist = "loglogistic", control = ctl)
out("loglogistic", "logLik", logLik(ll))
out("loglogistic", "tau0", -coef(ll)[["(Intercept)"]])
out("loglogistic", "tau_trt2", -coef(ll)[["trt2"]])
out("loglogistic", "tau_karno", -coef(ll)[["karno"]])
out("loglogistic", "gamma", 1 / ll$scale)
# Kaplan-Meier of veteran (all rows) at chosen days, and Harrell's C of the Weibull fit's linear predictor.
km <- survfit(Surv(time, status) ~ 1, data = veteran)
s <- summary(km, times = c(30, 100, 200, 365, 600))
for (i in seq_along(s$time)) out("km", sprintf("S%d", s$time[i]), s$surv[i])
out("weibull", "concordance", concordance(w)$concordance)
