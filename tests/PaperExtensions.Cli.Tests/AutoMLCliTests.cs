namespace PaperExtensions.Cli.Tests;

[TestClass]
public sealed class AutoMLCliTests
{
    [TestMethod]
    public void OrdinalSearchReportsTheBestPipelineAndEveryTrial()
    {
        var result = CliProcess.Run("automl", "--task", "ordinal", "--data", CliProcess.DataFile("soup.csv"), "--label", "SURENESS",
            "--features", "PRODID,DAY,EASY", "--max-trials", "6", "--time-budget", "900", "--cv-folds", "3", "--test", CliProcess.DataFile("soup.csv"), "--json");
        Assert.AreEqual(0, result.ExitCode, result.Error);
        var json = result.Json();
        Assert.AreEqual("brier", json.GetProperty("metricName").GetString());
        Assert.AreEqual(6, json.GetProperty("trials").GetInt32());
        var table = json.GetProperty("trialTable").EnumerateArray().ToList();
        Assert.AreEqual(6, table.Count);
        CollectionAssert.AreEqual(new[] { "Presto", "ProportionalOdds", "LbfgsMaximumEntropy", "SdcaMaximumEntropy", "LightGbm" },
            table.Take(5).Select(t => t.GetProperty("trainer").GetString()).ToArray());
        // Ordinal averages trials when that scores better (ensemble selection, on by default): then the best is below every trial.
        var best = json.GetProperty("bestMetric").GetDouble();
        var bestTrial = table.Min(t => t.GetProperty("metric").GetDouble());
        if (json.GetProperty("bestTrainer").GetString() == "Ensemble")
        {
            var members = json.GetProperty("ensemble").EnumerateArray().ToList();
            Assert.IsTrue(members.Count >= 2 && best < bestTrial, $"{members.Count} members, {best} against {bestTrial}");
            Assert.AreEqual(1, members.Sum(m => m.GetProperty("weight").GetDouble()), 1e-9);
        }
        else
        {
            Assert.AreEqual(bestTrial, best, 1e-12);
            Assert.AreEqual(System.Text.Json.JsonValueKind.Null, json.GetProperty("ensemble").ValueKind);
        }
        Assert.IsTrue(json.GetProperty("bestParameters").EnumerateObject().Any() || json.GetProperty("bestTrainer").GetString() == "ProportionalOdds");
        // Scored on rows it was refitted on: no worse than the cross-validated estimate by much, and below the uniform 5/6.
        Assert.IsTrue(json.GetProperty("testMetric").GetDouble() is > 0.3 and < 0.8, json.GetProperty("testMetric").ToString());
        StringAssert.Contains(result.Error, "trial 0 Presto");
    }

    [TestMethod]
    public void EnsembleOffReturnsTheBestTrialAndIsRefusedWhereThereAreNoClassProbabilities()
    {
        var off = CliProcess.Run("automl", "--task", "ordinal", "--data", CliProcess.DataFile("soup.csv"), "--label", "SURENESS",
            "--features", "PRODID,DAY,EASY", "--max-trials", "5", "--time-budget", "900", "--cv-folds", "3", "--ensemble", "0", "--json");
        Assert.AreEqual(0, off.ExitCode, off.Error);
        var json = off.Json();
        Assert.AreNotEqual("Ensemble", json.GetProperty("bestTrainer").GetString());
        Assert.AreEqual(json.GetProperty("trialTable").EnumerateArray().Min(t => t.GetProperty("metric").GetDouble()), json.GetProperty("bestMetric").GetDouble(), 1e-12);

        var survival = CliProcess.Run("automl", "--task", "survival", "--data", CliProcess.DataFile("lung.csv"), "--time", "time", "--event", "status",
            "--event-value", "2", "--features", "age", "--ensemble", "5");
        Assert.AreEqual(1, survival.ExitCode);
        StringAssert.Contains(survival.Error, "--ensemble averages class probabilities: it applies to --task ordinal, multiclass or semisupervised, not survival");
    }

    [TestMethod]
    public void CategoricalColumnsAreTreatmentCodedAndATestLevelTrainingLackedIsRefusedBeforeTheSearch()
    {
        var result = CliProcess.Run("automl", "--task", "ordinal", "--data", CliProcess.DataFile("soup.csv"), "--label", "SURENESS",
            "--categorical", "PROD,DAY,GENDER", "--max-trials", "2", "--time-budget", "900", "--cv-folds", "3", "--json");
        Assert.AreEqual(0, result.ExitCode, result.Error);
        var json = result.Json();
        CollectionAssert.AreEqual(new[] { "PROD", "DAY", "GENDER" }, json.GetProperty("categorical").EnumerateArray().Select(c => c.GetString()).ToArray());
        var numeric = json.GetProperty("features").EnumerateArray().Select(c => c.GetString()).ToList();
        Assert.IsTrue(numeric.Contains("PRODID") && !numeric.Contains("DAY"), "the other numeric columns are features, a categorical one is not: " + string.Join(", ", numeric));
        Assert.IsTrue(json.GetProperty("bestMetric").GetDouble() is > 0.3 and < 0.8);

        var test = Path.Combine(Path.GetTempPath(), $"soup-new-level-{Guid.NewGuid():N}.csv");
        File.WriteAllLines(test, File.ReadAllLines(CliProcess.DataFile("soup.csv")).Take(3).Select((l, i) => i == 2 ? l.Replace("\"Test\"", "\"Other\"") : l));
        try
        {
            var refused = CliProcess.Run("automl", "--task", "ordinal", "--data", CliProcess.DataFile("soup.csv"), "--label", "SURENESS",
                "--categorical", "PROD", "--test", test, "--max-trials", "2");
            Assert.AreEqual(1, refused.ExitCode);
            StringAssert.Contains(refused.Error, "line 3: --categorical column 'PROD' holds 'Other', a level the training data did not have");
            Assert.DoesNotContain("trial 0", refused.Error, "refused before any trial");
        }
        finally
        {
            File.Delete(test);
        }
    }

    [TestMethod]
    public void MissingFeatureValuesAreAnErrorUnlessDropped()
    {
        // lung.csv line 15 has an empty ph.ecog; it used to be rejected as "not a number" even with --drop-missing.
        string[] args = ["automl", "--task", "survival", "--data", CliProcess.DataFile("lung.csv"), "--time", "time", "--event", "status", "--event-value", "2",
            "--features", "age,ph.ecog", "--max-trials", "2", "--seed", "1", "--json"];
        var error = CliProcess.Run(args);
        Assert.AreEqual(1, error.ExitCode);
        StringAssert.Contains(error.Error, "lung.csv, line 15: column 'ph.ecog' is empty", "the file, the line and the column");

        var result = CliProcess.Run([.. args, "--drop-missing"]);
        Assert.AreEqual(0, result.ExitCode, result.Error);
        StringAssert.Contains(result.Error, "dropped 1 of 228 rows of");
        Assert.AreEqual("FlexibleSurvival", result.Json().GetProperty("bestTrainer").GetString());
    }

    [TestMethod]
    public void SurvivalSearchPlacesTheCandidatesAndScoresConcordance()
    {
        var result = CliProcess.Run("automl", "--task", "survival", "--data", CliProcess.DataFile("veteran.csv"), "--time", "time", "--event", "status",
            "--features", "karno,age,prior", "--max-trials", "6", "--cv-folds", "3", "--tuner", "random", "--seed", "3", "--json");
        Assert.AreEqual(0, result.ExitCode, result.Error);
        var json = result.Json();
        Assert.AreEqual("cindex", json.GetProperty("metricName").GetString());
        Assert.AreEqual("FlexibleSurvival", json.GetProperty("bestTrainer").GetString());
        Assert.IsTrue(json.GetProperty("bestParameters").TryGetProperty("Place:karno", out _));
        Assert.IsTrue(json.GetProperty("bestMetric").GetDouble() is > 0.6 and < 0.8);
        // 137 rows: of the six trials, the last two score the two best search trials again on another draw of the folds.
        var table = json.GetProperty("trialTable").EnumerateArray().ToList();
        Assert.AreEqual(6, table.Count);
        var again = table.Where(t => t.GetProperty("reevaluationOf").ValueKind == System.Text.Json.JsonValueKind.Number).ToList();
        Assert.AreEqual(2, again.Count);
        Assert.IsTrue(again.All(t => t.GetProperty("trial").GetInt32() >= 4 && t.GetProperty("reevaluationOf").GetInt32() < 4));
        Assert.IsTrue(json.GetProperty("selectionMetric").GetDouble() is > 0.6 and < 0.8);
    }

    [TestMethod]
    public void BadTasksMetricsAndBudgetsAreRefusedWithTheValidChoices()
    {
        var task = CliProcess.Run("automl", "--task", "clustering", "--data", CliProcess.DataFile("soup.csv"), "--label", "SURENESS");
        Assert.AreEqual(2, task.ExitCode);
        StringAssert.Contains(task.Error, "ordinal");

        var metric = CliProcess.Run("automl", "--task", "survival", "--data", CliProcess.DataFile("veteran.csv"), "--time", "time", "--event", "status", "--metric", "brier");
        Assert.AreEqual(1, metric.ExitCode);
        StringAssert.Contains(metric.Error, "use one of: cindex, ibs, loglik ('brier' is a metric of: ordinal)");

        var budget = CliProcess.Run("automl", "--task", "ordinal", "--data", CliProcess.DataFile("soup.csv"), "--label", "SURENESS", "--features", "DAY",
            "--time-budget", "0.05");
        Assert.AreEqual(1, budget.ExitCode);
        StringAssert.Contains(budget.Error, "No trial completed within the training time of 0.05 s");

        var text = CliProcess.Run("automl", "--task", "ordinal", "--data", CliProcess.DataFile("soup.csv"), "--label", "SURENESS", "--features", "DAY,COLD");
        Assert.AreEqual(1, text.ExitCode);
        StringAssert.Contains(text.Error, "soup.csv, line 2: --features column 'COLD' holds 'Yes', which is not a number");

        var headerOnly = Path.Combine(Path.GetTempPath(), $"automl-empty-{Guid.NewGuid():N}.csv");
        File.WriteAllText(headerOnly, "a,b,label\n");
        try
        {
            var empty = CliProcess.Run("automl", "--task", "multiclass", "--data", headerOnly, "--label", "label");
            Assert.AreEqual(1, empty.ExitCode);
            StringAssert.Contains(empty.Error, "has a header row but no data rows");
        }
        finally
        {
            File.Delete(headerOnly);
        }

        var label = CliProcess.Run("automl", "--task", "ordinal", "--data", CliProcess.DataFile("soup.csv"), "--label", "PROD", "--features", "DAY");
        Assert.AreEqual(1, label.ExitCode);
        StringAssert.Contains(label.Error, "--label column 'PROD' is not numeric");
    }
}
