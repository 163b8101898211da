using Microsoft.ML.PaperExtensions.Survival;

namespace Microsoft.ML.PaperExtensions.Tests.Survival;

[TestClass]
public sealed class FlexibleSurvivalFitTests
{
    private static readonly SurvivalSimulation.Truth Truth = new(Tau0: 0.3, Beta0: 0.2, Beta1: 0.6, Alpha0: 0.15, Alpha1: -0.3, Kappa: 0.5);

    private static FlexibleSurvivalTrainer.Options Options() => new()
    {
        TimeColumnName = "Time",
        EventColumnName = "Event",
        PhFeatureColumnNames = ["X"],
        ShapeFeatureColumnNames = ["Z"],
    };

    private static double[] Estimates(FlexibleSurvivalModel m) =>
    [
        m.Coefficients.Single(c => c.Parameter == "phi").Estimate,
        m.Coefficients.Single(c => c.Parameter == "lambda" && c.Term == "(Intercept)").Estimate,
        m.Coefficients.Single(c => c.Parameter == "lambda" && c.Term == "X").Estimate,
        m.Coefficients.Single(c => c.Parameter == "gamma" && c.Term == "(Intercept)").Estimate,
        m.Coefficients.Single(c => c.Parameter == "gamma" && c.Term == "Z").Estimate,
        m.Kappa,
    ];

    private static double[] StandardErrors(FlexibleSurvivalModel m) =>
    [
        m.Coefficients.Single(c => c.Parameter == "phi").StandardError,
        m.Coefficients.Single(c => c.Parameter == "lambda" && c.Term == "(Intercept)").StandardError,
        m.Coefficients.Single(c => c.Parameter == "lambda" && c.Term == "X").StandardError,
        m.Coefficients.Single(c => c.Parameter == "gamma" && c.Term == "(Intercept)").StandardError,
        m.Coefficients.Single(c => c.Parameter == "gamma" && c.Term == "Z").StandardError,
        m.Coefficients.Single(c => c.Parameter == "kappa").StandardError,
    ];

    private static readonly double[] TrueValues = [Truth.Tau0, Truth.Beta0, Truth.Beta1, Truth.Alpha0, Truth.Alpha1, Truth.Kappa];

    [TestMethod]
    public void RecoversKnownParametersWithinThreeStandardErrors()
    {
        var ml = new MLContext(seed: 1);
        var rows = SurvivalSimulation.Draw(Truth, 5000, 11);
        using var model = ml.Survival().Trainers.FlexibleParametric(Options()).Fit(ml.Data.LoadFromEnumerable(rows));
        var estimates = Estimates(model.Model);
        var se = StandardErrors(model.Model);
        for (var j = 0; j < estimates.Length; j++)
        {
            Assert.IsTrue(double.IsFinite(se[j]) && se[j] > 0, $"SE {j}: {se[j]}");
            Assert.IsLessThan(3 * se[j], Math.Abs(estimates[j] - TrueValues[j]), $"parameter {j}: {estimates[j]} vs {TrueValues[j]} (SE {se[j]})");
        }
        Assert.IsTrue(model.Model.Converged);
        Assert.AreEqual(2 * model.Model.ParameterCount - 2 * model.Model.LogLikelihood, model.Model.Aic, 1e-9);
        Assert.AreEqual(model.Model.ParameterCount * Math.Log(rows.Length) - 2 * model.Model.LogLikelihood, model.Model.Bic, 1e-9);
        var covariance = model.Model.Covariance();
        for (var i = 0; i < covariance.GetLength(0); i++)
        {
            for (var j = 0; j < i; j++) Assert.AreEqual(covariance[i, j], covariance[j, i], 1e-12, "symmetric");
        }
    }

    [TestMethod]
    [TestCategory("Slow")]
    public void WaldIntervalsCoverAbout95PercentOverReplicates()
    {
        var ml = new MLContext(seed: 1);
        const int replicates = 60;
        var covered = new int[TrueValues.Length];
        for (var r = 0; r < replicates; r++)
        {
            using var model = ml.Survival().Trainers.FlexibleParametric(Options()).Fit(ml.Data.LoadFromEnumerable(SurvivalSimulation.Draw(Truth, 1500, 100 + r)));
            var estimates = Estimates(model.Model);
            var se = StandardErrors(model.Model);
            for (var j = 0; j < estimates.Length; j++) covered[j] += Math.Abs(estimates[j] - TrueValues[j]) <= 1.96 * se[j] ? 1 : 0;
        }
        // 95% of 60 is 57; a binomial 99.9% range is about 50..60.
        for (var j = 0; j < covered.Length; j++) Assert.IsGreaterThanOrEqualTo(50, covered[j], $"parameter {j} covered {covered[j]} of {replicates}");
    }

    [TestMethod]
    public void ChangingTheTimeUnitMovesOnlyThePhiInterceptAndTheLogLikelihood()
    {
        var ml = new MLContext(seed: 1);
        var rows = SurvivalSimulation.Draw(Truth, 1500, 12);
        var days = rows.Select(r => new SurvivalSimulation.Row { Time = r.Time * 30, Event = r.Event, X = r.X, Z = r.Z }).ToArray();
        using var a = ml.Survival().Trainers.FlexibleParametric(Options()).Fit(ml.Data.LoadFromEnumerable(rows));
        using var b = ml.Survival().Trainers.FlexibleParametric(Options()).Fit(ml.Data.LoadFromEnumerable(days));
        var ea = Estimates(a.Model);
        var eb = Estimates(b.Model);
        Assert.AreEqual(ea[0] - Math.Log(30), eb[0], 1e-4, "tau0 moves by -log c");
        for (var j = 1; j < ea.Length; j++) Assert.AreEqual(ea[j], eb[j], 1e-4, $"parameter {j}");
        var events = rows.Count(r => r.Event);
        Assert.AreEqual(a.Model.LogLikelihood - events * Math.Log(30), b.Model.LogLikelihood, 1e-3);
    }

    [TestMethod]
    public void LeftTruncationUsesTheConditionalLikelihood()
    {
        var ml = new MLContext(seed: 1);
        var rows = SurvivalSimulation.Draw(Truth, 3000, 13);
        var random = new Random(2);
        // Delayed entry: keep only rows that survive past a random entry time, as a registry recruiting late would.
        var entered = rows.Select(r => (Row: r, Entry: (float)(random.NextDouble() * 0.5))).Where(t => t.Row.Time > t.Entry)
            .Select(t => new SurvivalSimulation.Row { Time = t.Row.Time, Event = t.Row.Event, X = t.Row.X, Z = t.Row.Z, Entry = t.Entry }).ToArray();
        var options = Options();
        options.EntryTimeColumnName = "Entry";
        using var model = ml.Survival().Trainers.FlexibleParametric(options).Fit(ml.Data.LoadFromEnumerable(entered));
        var estimates = Estimates(model.Model);
        var se = StandardErrors(model.Model);
        for (var j = 0; j < estimates.Length; j++)
        {
            Assert.IsLessThan(3.5 * se[j], Math.Abs(estimates[j] - TrueValues[j]), $"parameter {j}: {estimates[j]} vs {TrueValues[j]} (SE {se[j]})");
        }
    }
}
