using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Metrics;

namespace Microsoft.ML.PaperExtensions.Tests.Catalogs;

[TestClass]
public sealed class CatalogTests
{
    private sealed class Scored
    {
        public uint Label { get; set; }

        [VectorType(3)]
        public float[] Score { get; set; } = [];
    }

    private sealed class SurvivalRow
    {
        public float Time { get; set; }

        public bool Event { get; set; }

        public double Score { get; set; }
    }

    [TestMethod]
    public void CatalogsHangOffTheMLContext()
    {
        var ml = new MLContext(seed: 1);
        Assert.AreSame(ml, ml.Ordinal().Context);
        Assert.AreSame(ml, ml.Survival().Trainers.Context);
        Assert.AreSame(ml, ml.SemiSupervised().Trainers.Task.Context);
    }

    [TestMethod]
    public void OrdinalEvaluateReadsKeyLabelsAndScoreVectors()
    {
        var ml = new MLContext(seed: 1);
        var rows = new[]
        {
            new Scored { Label = 0, Score = [0.7f, 0.2f, 0.1f] },
            new Scored { Label = 2, Score = [0.2f, 0.3f, 0.5f] },
            new Scored { Label = 1, Score = [0.1f, 0.6f, 0.3f] },
        };
        var view = ml.Data.LoadFromEnumerable(rows);
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", keyData: ml.Data.LoadFromEnumerable(new[] { new { Label = 0u }, new { Label = 1u }, new { Label = 2u } })).Fit(view).Transform(view);

        var metrics = ml.Ordinal().Evaluate(keyed);

        var p = rows.SelectMany(r => r.Score.Select(v => (double)v)).ToArray();
        int[] y = [0, 2, 1];
        Assert.AreEqual(3, metrics.RowCount);
        Assert.AreEqual(ProbabilityMetrics.BrierScore(p, y, 3), metrics.BrierScore, 1e-12);
        Assert.AreEqual(OrdinalMetrics.RankedProbabilityScore(p, y, 3), metrics.RankedProbabilityScore, 1e-12);
        Assert.AreEqual(1.0, metrics.Accuracy, "the most probable class is right in every row");
        Assert.AreEqual(0.0, metrics.MeanAbsoluteError);
        Assert.AreEqual(1.0, metrics.QuadraticWeightedKappa);
        Assert.AreEqual(2, metrics.RareClass);
        // Rare class 2: p = (0.1, 0.5, 0.3), outcome (no, yes, no): (0.01 + 0.25 + 0.09) / 3.
        Assert.AreEqual((0.01 + 0.25 + 0.09) / 3, metrics.RareClassBrierScore, 1e-7);
    }

    [TestMethod]
    public void OrdinalEvaluateRejectsLabelsOutsideTheScoreRange()
    {
        var ml = new MLContext(seed: 1);
        var view = ml.Data.LoadFromEnumerable(new[] { new Scored { Label = 3, Score = [0.2f, 0.3f, 0.5f] } });
        var error = Assert.Throws<ArgumentException>(() => ml.Ordinal().Evaluate(view));
        StringAssert.Contains(error.Message, "Label column 'Label' has the value 3 at row 0");
        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Ordinal().Evaluate(view, scoreColumnName: "Probabilities"));
        StringAssert.Contains(missing.Message, "Score column 'Probabilities' was not found");
    }

    [TestMethod]
    public void SurvivalConcordanceReadsTimeEventAndScoreColumns()
    {
        var ml = new MLContext(seed: 1);
        var rows = new[]
        {
            new SurvivalRow { Time = 2, Event = true, Score = 1 },
            new SurvivalRow { Time = 3, Event = false, Score = 3 },
            new SurvivalRow { Time = 3, Event = true, Score = 2 },
            new SurvivalRow { Time = 5, Event = true, Score = 2 },
            new SurvivalRow { Time = 6, Event = false, Score = 1.5 },
        };
        var result = ml.Survival().ConcordanceIndex(ml.Data.LoadFromEnumerable(rows), "Time", "Event");
        Assert.AreEqual(0.6875, result.ConcordanceIndex, "the hand-worked example of SurvivalMetricsTests");

        var bad = rows.Select(r => new SurvivalRow { Time = r.Time - 2, Event = r.Event, Score = r.Score }).ToArray();
        var error = Assert.Throws<ArgumentException>(() => ml.Survival().ConcordanceIndex(ml.Data.LoadFromEnumerable(bad), "Time", "Event"));
        StringAssert.Contains(error.Message, "Time column 'Time' has non-positive times in 1 of 5 rows (first at row 0: 0)");
    }

    private sealed class OrdinalRow
    {
        public float Label { get; set; }

        [VectorType(2)]
        public float[] Features { get; set; } = [];
    }

    private static OrdinalRow[] OrdinalRows(int n)
    {
        var random = new Random(5);
        return Enumerable.Range(0, n).Select(_ =>
        {
            var x = (float)random.NextDouble() * 4;
            var noise = (float)random.NextDouble();
            return new OrdinalRow { Features = [x, noise], Label = Math.Min(3, (int)(x + noise - 0.5f + 0.5f)) };
        }).ToArray();
    }

    [TestMethod]
    public void OrdinalCrossValidateScoresEveryRowOnceWithAModelFittedWithoutIt()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(OrdinalRows(300));
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(maximumNumberOfIterations: 30));

        var folds = ml.Ordinal().CrossValidate(data, pipeline, numberOfFolds: 3, seed: 3);

        Assert.AreEqual(3, folds.Count);
        Assert.AreEqual(300, folds.Sum(f => f.Metrics.RowCount), "each row is held out exactly once");
        CollectionAssert.AreEqual(new[] { 0, 1, 2 }, folds.Select(f => f.Fold).ToArray());
        foreach (var fold in folds)
        {
            Assert.AreEqual(4, fold.Metrics.ClassCount);
            Assert.IsLessThan(0.5, fold.Metrics.MeanAbsoluteError, $"fold {fold.Fold}: a learnable ordering");
        }
    }

    [TestMethod]
    public void OrdinalCrossValidateRefusesMoreFoldsThanRows()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(OrdinalRows(4));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.Ordinal().CrossValidate(data, ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(), numberOfFolds: 5));
        StringAssert.Contains(error.Message, "numberOfFolds (5) is larger than the number of rows (4)");
    }
}
