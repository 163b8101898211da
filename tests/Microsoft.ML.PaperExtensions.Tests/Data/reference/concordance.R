# Reference values for Harrell's C-index, from R's survival package (timewt = "n", the default, is Harrell's C).
# Run from this folder: Rscript concordance.R > concordance.csv
suppressMessages(library(survival))
row <- function(name, fit) {
  cnt <- fit$count
  cat(sprintf("%s,%.15g,%.0f,%.0f,%.0f\n", name, fit$concordance, cnt["concordant"], cnt["discordant"], cnt["tied.x"]))
}
cat("case,concordance,concordant,discordant,tied_prediction\n")
hand <- data.frame(time = c(2, 3, 3, 5, 6), status = c(1, 0, 1, 1, 0), pred = c(1, 3, 2, 2, 1.5))
row("hand", concordance(Surv(time, status) ~ pred, data = hand))
veteran <- read.csv("../veteran.csv")
row("veteran_karno", concordance(Surv(time, status) ~ karno, data = veteran))
row("veteran_age", concordance(Surv(time, status) ~ age, data = veteran))
lung <- read.csv("../lung.csv")
row("lung_age", concordance(Surv(time, status == 2) ~ age, data = lung))
