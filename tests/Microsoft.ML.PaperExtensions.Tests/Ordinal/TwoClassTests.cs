using Microsoft.ML.Data;

namespace Microsoft.ML.PaperExtensions.Tests.Ordinal;

[TestClass]
public sealed class TwoClassTests
{
    private sealed class Row
    {
        public bool Label { get; set; }

        [VectorType(3)]
        public float[] Features { get; set; } = [];
    }

    private sealed class Calibrated
    {
        public float Probability { get; set; }
    }

    [TestMethod]
    public void TwoClassesIsLogisticRegression()
    {
        var ml = new MLContext(seed: 1);
        var random = new Random(2);
        var rows = Enumerable.Range(0, 500).Select(_ =>
        {
            var x = Enumerable.Range(0, 3).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            var p = 1 / (1 + Math.Exp(-(0.3 + 1.5 * x[0] - x[1])));
            return new Row { Label = random.NextDouble() < p, Features = x };
        }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        using var ordinal = ml.Ordinal().Trainers.ProportionalOdds().Fit(data);
        var logistic = ml.BinaryClassification.Trainers.LbfgsLogisticRegression(new Trainers.LbfgsLogisticRegressionBinaryTrainer.Options
        {
            L1Regularization = 0, L2Regularization = 0, OptimizationTolerance = 1e-10f, EnforceNonNegativity = false,
        }).Fit(data);
        var expected = ml.Data.CreateEnumerable<Calibrated>(logistic.Transform(data), false).Select(p => p.Probability).ToArray();

        CollectionAssert.AreEqual(new[] { "False", "True" }, ordinal.Model.ClassNames.ToArray());
        for (var i = 0; i < rows.Length; i++)
        {
            var p = ordinal.Model.Probabilities(rows[i].Features.Select(v => (double)v).ToArray(), out _);
            Assert.AreEqual(expected[i], p[1], 1e-4, $"row {i}: P(true)");
        }
    }
}
