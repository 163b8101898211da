using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Survival;
using Microsoft.ML.PaperExtensions.Tests.Conformance;

namespace Microsoft.ML.PaperExtensions.Tests.Survival;

[TestClass]
public sealed class FlexibleSurvivalTransformerTests
{
    private sealed class Prediction
    {
        [VectorType(3)]
        public float[] SurvivalProbability { get; set; } = [];

        [VectorType(3)]
        public float[] Hazard { get; set; } = [];

        [VectorType(3)]
        public float[] CumulativeHazard { get; set; } = [];

        public float MedianSurvivalTime { get; set; }

        [VectorType(2)]
        public float[] SurvivalQuantiles { get; set; } = [];

        public float CureFraction { get; set; }

        public float Score { get; set; }
    }

    private static FlexibleSurvivalTrainer.Options Options(double? kappa = null, bool gompertz = false) => new()
    {
        TimeColumnName = "Time",
        EventColumnName = "Event",
        PhFeatureColumnNames = ["X"],
        ShapeFeatureColumnNames = gompertz ? [] : ["Z"],
        Kappa = kappa,
        GompertzLimit = gompertz,
        Times = [0.2, 1, 3],
        Quantiles = [0.25, 0.75],
    };

    [TestMethod]
    [DataRow(-0.5, false)]
    [DataRow(0.0, false)]
    [DataRow(2.0, false)]
    [DataRow(double.NaN, true)]
    public void OnnxPredictionsEqualTheManagedMath(double kappa, bool gompertz)
    {
        var ml = new MLContext(seed: 1);
        var truth = new SurvivalSimulation.Truth(0, 0.2, 0.5, 0.1, gompertz ? 0 : 0.3, gompertz ? double.PositiveInfinity : kappa);
        var rows = SurvivalSimulation.Draw(truth, 600, 3);
        using var model = ml.Survival().Trainers.FlexibleParametric(Options(gompertz ? null : kappa, gompertz)).Fit(ml.Data.LoadFromEnumerable(rows));
        var predictions = ml.Data.CreateEnumerable<Prediction>(model.Transform(ml.Data.LoadFromEnumerable(rows)), false).ToArray();
        for (var i = 0; i < 60; i++)
        {
            var d = model.Model.Distribution([], [rows[i].X], gompertz ? [] : [rows[i].Z]);
            double[] times = [0.2, 1, 3];
            for (var t = 0; t < 3; t++)
            {
                Assert.AreEqual(d.Survival(times[t]), predictions[i].SurvivalProbability[t], 1e-6, $"row {i} S({times[t]})");
                Assert.AreEqual(d.Hazard(times[t]), predictions[i].Hazard[t], 1e-6 * (1 + d.Hazard(times[t])), $"row {i} h({times[t]})");
                Assert.AreEqual(d.CumulativeHazard(times[t]), predictions[i].CumulativeHazard[t], 1e-6 * (1 + d.CumulativeHazard(times[t])), $"row {i} H");
            }
            AssertSameTime(d.Quantile(0.5), predictions[i].MedianSurvivalTime, $"row {i} median");
            AssertSameTime(d.Quantile(0.25), predictions[i].SurvivalQuantiles[0], $"row {i} q25");
            AssertSameTime(d.Quantile(0.75), predictions[i].SurvivalQuantiles[1], $"row {i} q75");
            Assert.AreEqual(d.CureFraction, predictions[i].CureFraction, 1e-6);
            Assert.AreEqual(predictions[i].MedianSurvivalTime, predictions[i].Score);
        }
    }

    private static void AssertSameTime(double expected, float actual, string message)
    {
        if (double.IsPositiveInfinity(expected)) Assert.AreEqual(float.PositiveInfinity, actual, message);
        else Assert.AreEqual(expected, actual, 1e-5 * (1 + expected), message);
    }

    [TestMethod]
    public void CureFitPredictsInfiniteQuantilesBeyondTheCureFraction()
    {
        var ml = new MLContext(seed: 1);
        var truth = new SurvivalSimulation.Truth(0, 0.5, 0.8, 0, 0, -0.6);
        var rows = SurvivalSimulation.Draw(truth, 3000, 5, censoringRate: 0.05);
        var options = Options(null);
        options.ShapeFeatureColumnNames = [];
        using var model = ml.Survival().Trainers.FlexibleParametric(options).Fit(ml.Data.LoadFromEnumerable(rows));
        Assert.IsLessThan(0, model.Model.Kappa, $"kappa {model.Model.Kappa}: the data have a cure fraction");
        var predictions = ml.Data.CreateEnumerable<Prediction>(model.Transform(ml.Data.LoadFromEnumerable(rows)), false).ToArray();
        Assert.IsTrue(predictions.All(p => p.CureFraction > 0));
        Assert.IsTrue(predictions.Where(p => p.CureFraction >= 0.25).All(p => float.IsPositiveInfinity(p.SurvivalQuantiles[1])), "q75 is infinite when 25% are cured");
    }

    [TestMethod]
    public void PassesTheConformanceKitWithTheRegressionEvaluator()
    {
        var ml = new MLContext(seed: 1);
        var rows = SurvivalSimulation.Draw(new SurvivalSimulation.Truth(0, 0.2, 0.5, 0.1, 0.3, 0.5), 300, 7);
        var trainer = ml.Survival().Trainers.FlexibleParametric(Options());
        var noX = ml.Data.LoadFromEnumerable(new[] { new { Time = 1f, Event = true, Z = 1f } });
        var textTime = ml.Data.LoadFromEnumerable(new[] { new { Time = "1", Event = true, X = 1f, Z = 1f } });
        EstimatorConformance.Check<SurvivalSimulation.Row, Prediction>(ml, trainer, rows,
            [new InvalidInput(noX, "X"), new InvalidInput(textTime, "Time")],
            (context, data) => context.Regression.CrossValidate(data, trainer, numberOfFolds: 3, labelColumnName: "Time")
                .Select(f => f.Metrics.MeanAbsoluteError).ToList());
    }

    [TestMethod]
    public void ProportionalHazardsHoldWithoutShapeFeatures()
    {
        var ml = new MLContext(seed: 1);
        var rows = SurvivalSimulation.Draw(new SurvivalSimulation.Truth(0, 0.2, 0.5, 0.1, 0, 0.4), 800, 9);
        var options = Options();
        options.ShapeFeatureColumnNames = [];
        using var model = ml.Survival().Trainers.FlexibleParametric(options).Fit(ml.Data.LoadFromEnumerable(rows));
        var a = model.Model.Distribution([], [0.7], []);
        var b = model.Model.Distribution([], [-0.2], []);
        var ratio = a.Hazard(0.1) / b.Hazard(0.1);
        foreach (var t in new[] { 0.5, 2, 8 }) Assert.AreEqual(ratio, a.Hazard(t) / b.Hazard(t), 1e-10 * ratio, $"t = {t}");
    }
}
