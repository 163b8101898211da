using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Ordinal;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.Tests.Conformance;

namespace Microsoft.ML.PaperExtensions.Tests.Ordinal;

[TestClass]
public sealed class OrdinalTransformerTests
{
    private sealed class Prediction
    {
        [VectorType(4)]
        public float[] Score { get; set; } = [];

        public uint PredictedLabel { get; set; }

        public float RareClassProbability { get; set; }

        public bool CrossingRepaired { get; set; }
    }

    private sealed class KeyedRow
    {
        public string Grade { get; set; } = "";

        [VectorType(3)]
        public float[] Features { get; set; } = [];
    }

    private sealed class TextLabelRow
    {
        public string Label { get; set; } = "a";

        [VectorType(3)]
        public float[] Features { get; set; } = new float[3];
    }

    private static readonly string[] Grades = ["low", "mid", "high", "top"];

    /// <summary>Rows far outside the training range, where a non-parallel fit crosses.</summary>
    private static PrestoPropertyTests.Row[] Extreme(int n, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => new PrestoPropertyTests.Row
        {
            Features = Enumerable.Range(0, 3).Select(_ => (float)(random.NextDouble() * 40 - 20)).ToArray(),
        }).ToArray();
    }

    [TestMethod]
    [DataRow(CrossingRepair.Isotonic)]
    [DataRow(CrossingRepair.Clip)]
    [DataRow(CrossingRepair.Error)]
    public void OnnxPredictionsEqualTheManagedMathIncludingCrossingRepairs(CrossingRepair repair)
    {
        var ml = new MLContext(seed: 1);
        var train = PrestoPropertyTests.Simulate(400, 11);
        var options = new PrestoTrainer.Options { Lambda = 0, CrossingRepair = repair == CrossingRepair.Error ? CrossingRepair.Isotonic : repair };
        using var fitted = ml.Ordinal().Trainers.Presto(options).Fit(ml.Data.LoadFromEnumerable(train));
        // The Error policy refuses to fit when training rows cross; give the same coefficients to an Error-policy model.
        using var model = repair == CrossingRepair.Error
            ? new OrdinalTransformer(ml, WithRepair(fitted.Model, CrossingRepair.Error), ml.Data.LoadFromEnumerable(train).Schema, "Features")
            : fitted;
        var rows = train.Take(100).Concat(Extreme(200, 12)).ToArray();
        var predictions = ml.Data.CreateEnumerable<Prediction>(model.Transform(ml.Data.LoadFromEnumerable(rows)), false).ToArray();

        var crossings = 0;
        for (var i = 0; i < rows.Length; i++)
        {
            var expected = model.Model.Probabilities(rows[i].Features.Select(v => (double)v).ToArray(), out var crossed);
            crossings += crossed ? 1 : 0;
            Assert.AreEqual(crossed, predictions[i].CrossingRepaired, $"row {i}");
            for (var k = 0; k < 4; k++)
            {
                if (double.IsNaN(expected[k])) Assert.IsTrue(float.IsNaN(predictions[i].Score[k]), $"row {i} class {k}");
                else Assert.AreEqual(expected[k], predictions[i].Score[k], 2e-7, $"row {i} class {k}");
            }
            Assert.AreEqual(model.Model.RareClassProbability(rows[i].Features.Select(v => (double)v).ToArray()), predictions[i].RareClassProbability, 2e-7);
            if (!crossed || repair != CrossingRepair.Error)
            {
                Assert.AreEqual(expected[^1], predictions[i].RareClassProbability, 2e-7, "a repair never changes the rare-class probability");
                Assert.AreEqual((uint)Array.IndexOf(expected, expected.Max()) + 1, predictions[i].PredictedLabel, $"row {i}");
            }
            else
            {
                Assert.AreEqual(0u, predictions[i].PredictedLabel, $"row {i}: crossed under Error, so no class (the missing key), never class 1");
            }
        }
        Assert.IsGreaterThan(10, crossings, "the extreme rows must exercise the repair");

        var scored = model.Transform(ml.Data.LoadFromEnumerable(rows.Select(r => new PrestoPropertyTests.Row { Label = 3, Features = r.Features })));
        if (repair == CrossingRepair.Error)
        {
            var evaluation = ml.Ordinal().Evaluate(scored);
            Assert.AreEqual(crossings, evaluation.UnscoredRows, "rows with NaN probabilities are counted, not scored");
            Assert.AreEqual(rows.Length - crossings, evaluation.RowCount);
        }
        else
        {
            Assert.AreEqual(crossings, ml.Ordinal().Evaluate(scored, crossingRepairedColumnName: OrdinalTransformer.CrossingRepairedColumnName).CrossingRepairs, "the evaluator counts the repaired rows");
        }
    }

    private static OrdinalModel WithRepair(OrdinalModel m, CrossingRepair repair) =>
        new(m.ClassNames, m.Intercepts.ToArray(), m.Weights.Select(w => w.ToArray()).ToArray(), m.RareClass, repair, m.Lambda, m.Path,
            m.LogLikelihood, m.RowCount, m.Iterations, m.Converged, m.KktViolation);

    [TestMethod]
    public void IsotonicRepairEqualsTheMaxMinFormulaAndKeepsTheLastValue()
    {
        var random = new Random(9);
        for (var trial = 0; trial < 500; trial++)
        {
            var m = random.Next(1, 7);
            var cdf = Enumerable.Range(0, m).Select(_ => random.NextDouble()).ToArray();
            var pava = OrdinalModel.IsotonicWithLastFixed(cdf);
            for (var k = 0; k < m; k++)
            {
                var best = double.NegativeInfinity;
                for (var i = 0; i <= k; i++)
                {
                    var worst = double.PositiveInfinity;
                    for (var j = k; j < m; j++)
                    {
                        var mean = j == m - 1 ? cdf[m - 1] : cdf[i..(j + 1)].Average();
                        worst = Math.Min(worst, mean);
                    }
                    best = Math.Max(best, worst);
                }
                Assert.AreEqual(best, pava[k], 1e-12, $"trial {trial}, k {k}");
            }
            Assert.AreEqual(cdf[^1], pava[^1]);
            Assert.IsTrue(pava.Zip(pava.Skip(1)).All(t => t.First <= t.Second + 1e-15), "non-decreasing");
        }
    }

    [TestMethod]
    public void ClassNamesOfAKeyLabelBecomeThePredictedLabelKeyValuesAndMulticlassEvaluationRuns()
    {
        var ml = new MLContext(seed: 1);
        var rows = PrestoPropertyTests.Simulate(500, 13).Select(r => new KeyedRow { Grade = Grades[(int)r.Label], Features = r.Features }).ToArray();
        var view = ml.Data.LoadFromEnumerable(rows);
        var keys = ml.Data.LoadFromEnumerable(Grades.Select(g => new { Grade = g }));
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", "Grade", keyData: keys)
            .Append(ml.Ordinal().Trainers.Presto(lambda: 0.005));
        var model = pipeline.Fit(view);
        var scored = model.Transform(view);

        var names = default(VBuffer<ReadOnlyMemory<char>>);
        scored.Schema["PredictedLabel"].GetKeyValues(ref names);
        CollectionAssert.AreEqual(Grades, names.DenseValues().Select(v => v.ToString()).ToArray());
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        Assert.IsGreaterThan(0.4, metrics.MacroAccuracy + metrics.MicroAccuracy);
        var ordinal = ml.Ordinal().Evaluate(scored);
        Assert.AreEqual(500, ordinal.RowCount);
        Assert.AreEqual(metrics.LogLoss, ordinal.LogLoss, 1e-4, "ML.NET's log-loss on the same probabilities");
    }

    [TestMethod]
    public void PrestoPassesTheConformanceKitWithMlNetCrossValidation()
    {
        var ml = new MLContext(seed: 1);
        var rows = PrestoPropertyTests.Simulate(300, 14);
        var trainer = ml.Ordinal().Trainers.Presto(lambda: 0.01);
        var noFeatures = ml.Data.LoadFromEnumerable(new[] { new { Label = 1f } });
        var textLabel = ml.Data.LoadFromEnumerable(new[] { new TextLabelRow() });
        EstimatorConformance.Check<PrestoPropertyTests.Row, Prediction>(ml, trainer, rows,
            [new InvalidInput(noFeatures, "Features"), new InvalidInput(textLabel, "Label")],
            (context, data) =>
            {
                // Key order must be the class order: MapValueToKey's default (first appearance) is refused by PRESTO.
                var pipeline = context.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
                    .Append(context.Ordinal().Trainers.Presto(lambda: 0.01));
                return context.MulticlassClassification.CrossValidate(data, pipeline, numberOfFolds: 3).Select(f => f.Metrics.LogLoss).ToList();
            });
    }

    [TestMethod]
    public void RareFirstReportsProbabilitiesInLabelOrder()
    {
        var ml = new MLContext(seed: 1);
        var rows = PrestoPropertyTests.Simulate(400, 15);
        var options = new PrestoTrainer.Options { Lambda = 0.01, RareClass = RareClassPosition.First, PenalizeFirstVector = false };
        using var first = ml.Ordinal().Trainers.Presto(options).Fit(ml.Data.LoadFromEnumerable(rows));
        var reversed = rows.Select(r => new PrestoPropertyTests.Row { Label = 3 - r.Label, Features = r.Features }).ToArray();
        using var last = ml.Ordinal().Trainers.Presto(new PrestoTrainer.Options { Lambda = 0.01, PenalizeFirstVector = false }).Fit(ml.Data.LoadFromEnumerable(reversed));
        var predictions = ml.Data.CreateEnumerable<Prediction>(first.Transform(ml.Data.LoadFromEnumerable(rows)), false).ToArray();
        for (var i = 0; i < 30; i++)
        {
            var x = rows[i].Features.Select(v => (double)v).ToArray();
            var p = last.Model.Probabilities(x, out _);
            CollectionAssert.AreEqual(p.Reverse().Select(v => (float)v).ToArray(), predictions[i].Score, new ToleranceComparer(1e-6f), $"row {i}");
            Assert.AreEqual(p[^1], predictions[i].RareClassProbability, 1e-6, "the rare class is the first label");
            Assert.AreEqual(p[^1], predictions[i].Score[0], 1e-6);
        }
    }

    [TestMethod]
    public void FitReportsProgressAndCanBeCancelled()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(PrestoPropertyTests.Simulate(300, 16));
        var trainer = ml.Ordinal().Trainers.Presto(new PrestoTrainer.Options { NumberOfLambdas = 6, NumberOfFolds = 3, Seed = 1 });
        var reports = new List<TrainingProgress>();
        using (trainer.Fit(data, CancellationToken.None, new Collect(reports))) { }
        Assert.AreEqual(6 * 4, reports.Count, "one report per lambda: the full-data path and three folds");
        Assert.IsTrue(reports.Any(r => r.Stage.StartsWith("cross-validation fold 3 of 3", StringComparison.Ordinal)));

        using var cancellation = new CancellationTokenSource();
        var cancelAfterFirst = new Collect([], () => cancellation.Cancel());
        Assert.Throws<OperationCanceledException>(() => trainer.Fit(data, cancellation.Token, cancelAfterFirst));
    }

    private sealed class Collect(List<TrainingProgress> reports, Action? onReport = null) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            reports.Add(value);
            onReport?.Invoke();
        }
    }

    private sealed class ToleranceComparer(float tolerance) : System.Collections.IComparer
    {
        public int Compare(object? x, object? y) => Math.Abs((float)x! - (float)y!) <= tolerance ? 0 : 1;
    }
}
