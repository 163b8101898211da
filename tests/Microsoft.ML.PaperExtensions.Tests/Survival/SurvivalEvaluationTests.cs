using Microsoft.ML.PaperExtensions.Metrics;
using Microsoft.ML.PaperExtensions.Survival;

namespace Microsoft.ML.PaperExtensions.Tests.Survival;

[TestClass]
public sealed class SurvivalEvaluationTests
{
    [TestMethod]
    public void KaplanMeierMatchesRSurvfitOnVeteran()
    {
        var rows = VeteranData.Load();
        var km = KaplanMeier.Fit(rows.Select(r => (double)r.Time).ToArray(), rows.Select(r => r.Status == 1).ToArray());
        foreach (var day in new[] { 30, 100, 200, 365, 600 })
        {
            Assert.AreEqual(VeteranData.Reference("km", $"S{day}"), km.Evaluate(day), 1e-10, $"day {day}");
        }
    }

    [TestMethod]
    public void KaplanMeierByHand()
    {
        // Times 1 (event), 2 (censored), 3 (event), 3 (event), 5 (censored): S(1) = 4/5, S(3) = 4/5 * (1 - 2/3) = 4/15.
        var km = KaplanMeier.Fit([1, 2, 3, 3, 5], [true, false, true, true, false]);
        CollectionAssert.AreEqual(new double[] { 1, 3 }, km.Times.ToArray());
        Assert.AreEqual(0.8, km.Evaluate(2), 1e-15);
        Assert.AreEqual(4.0 / 15, km.Evaluate(3), 1e-15);
        Assert.AreEqual(0.8, km.EvaluateBefore(3), 1e-15);
        Assert.AreEqual(1.0, km.EvaluateBefore(1));
        CollectionAssert.AreEqual(new double[] { 5, 3 }, km.AtRisk.ToArray());
    }

    [TestMethod]
    public void IpcwBrierScoreByHand()
    {
        // Times 1 (event), 2 (censored), 4 (event), 6 (censored); t = 3. Censoring KM G: drops at 2 from 1 to 2/3 (3 at risk), at 6 to 0.
        // Row 1: event before t: S^2 / G(1-) = 0.6^2 / 1. Row 2: censored before t: 0. Rows 3, 4: alive at t: (1 - S)^2 / G(3) = (1 - S)^2 / (2/3).
        double[] time = [1, 2, 4, 6];
        bool[] isEvent = [true, false, true, false];
        double[] s = [0.6, 0.5, 0.7, 0.9];
        var censoring = KaplanMeier.Fit(time, isEvent.Select(e => !e).ToArray());
        var expected = (0.36 + 0 + 0.09 / (2.0 / 3) + 0.01 / (2.0 / 3)) / 4;
        Assert.AreEqual(expected, SurvivalEvaluation.BrierScore(3, time, isEvent, s, censoring), 1e-15);
        Assert.AreEqual(0.25, SurvivalEvaluation.Integrate([0, 1, 3], [0, 0.5, 0]), 1e-15, "(0.25 + 0.5) / 3");
    }

    [TestMethod]
    public void EvaluateOnVeteranMatchesTheFitAndRsConcordance()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(VeteranData.Load());
        var options = new FlexibleSurvivalTrainer.Options { TimeColumnName = "Time", EventColumnName = "Status", PhFeatureColumnNames = ["Trt2", "Karno"], Kappa = 1 };
        using var model = ml.Survival().Trainers.FlexibleParametric(options).Fit(data);
        var evaluation = ml.Survival().Evaluate(model.Transform(data), "Time", "Status");

        Assert.AreEqual(137, evaluation.RowCount);
        Assert.AreEqual(128, evaluation.Events);
        Assert.AreEqual(model.Model.LogLikelihood, evaluation.LogLikelihood, 1e-6, "the managed density on the training rows gives the fitted likelihood");
        Assert.AreEqual(VeteranData.Reference("weibull", "concordance"), evaluation.ConcordanceIndex, 1e-9, "R concordance(survreg fit)");
        Assert.IsTrue(evaluation.IntegratedBrierScore is > 0 and < 0.25, $"IBS {evaluation.IntegratedBrierScore}");
        Assert.AreEqual(50, evaluation.BrierTimes.Count);
    }

    [TestMethod]
    public void CrossValidateEvaluatesEveryFold()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(VeteranData.Load());
        var trainer = ml.Survival().Trainers.FlexibleParametric(new FlexibleSurvivalTrainer.Options { TimeColumnName = "Time", EventColumnName = "Status", PhFeatureColumnNames = ["Karno"] });
        var folds = ml.Survival().CrossValidate(data, trainer, numberOfFolds: 3, "Time", "Status", seed: 1);
        Assert.AreEqual(3, folds.Count);
        Assert.AreEqual(137, folds.Sum(f => f.Metrics.RowCount));
        Assert.IsTrue(folds.All(f => f.Metrics.ConcordanceIndex > 0.55 && double.IsFinite(f.Metrics.LogLikelihood)));
    }
}
