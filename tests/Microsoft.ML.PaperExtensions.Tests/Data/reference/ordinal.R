# Reference fits for the ordinal trainers on soup.csv (R package ordinal), with class k = 7 - SURENESS (so the rare
# class "reference, sure" is the last, k = 6) and four 0/1 features: PROD == Test, DAY == 2, COLD == Yes, GENDER == Female.
#   lambda = 0 PRESTO  = non-parallel cumulative logit: VGAM::vglm(cumulative(parallel = FALSE)),
#                        logit P(Y <= k) = alpha_k + x' beta_k (the package's sign convention).
#   proportional odds  = ordinal::clm and MASS::polr: logit P(Y <= k) = zeta_k - x' b, so alpha = zeta, beta = -b.
# Run from this folder: Rscript ordinal.R > ordinal.csv
suppressMessages({ library(VGAM); library(ordinal); library(MASS) })
soup <- read.csv("../soup.csv")
d <- data.frame(k = 7 - soup$SURENESS, prod = as.numeric(soup$PROD == "Test"), day = as.numeric(soup$DAY == 2),
                cold = as.numeric(soup$COLD == "Yes"), female = as.numeric(soup$GENDER == "Female"))
d$ko <- factor(d$k, levels = 1:6, ordered = TRUE)
out <- function(model, term, value) cat(sprintf("%s,%s,%.12g\n", model, term, value))
cat("model,term,value\n")

np <- vglm(ko ~ prod + day + cold + female, family = cumulative(parallel = FALSE), data = d,
           control = vglm.control(epsilon = 1e-13, maxit = 200))
out("nonparallel", "logLik", logLik(np))
co <- coef(np, matrix = TRUE)   # rows: (Intercept), prod, day, cold, female; columns: boundaries 1..5
for (b in 1:5) {
  out("nonparallel", sprintf("alpha%d", b), co["(Intercept)", b])
  for (v in c("prod", "day", "cold", "female")) out("nonparallel", sprintf("beta%d_%s", b, v), co[v, b])
}

po <- clm(ko ~ prod + day + cold + female, data = d, control = clm.control(gradTol = 1e-12, relTol = 1e-12))
out("po_clm", "logLik", logLik(po))
for (b in 1:5) out("po_clm", sprintf("alpha%d", b), po$alpha[b])
for (v in c("prod", "day", "cold", "female")) out("po_clm", sprintf("beta_%s", v), -po$beta[v])

polr_fit <- polr(ko ~ prod + day + cold + female, data = d)
out("po_polr", "logLik", logLik(polr_fit))
