using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Ordinal;

namespace Microsoft.ML.PaperExtensions.Tests.Ordinal;

[TestClass]
public sealed class OrdinalBadInputTests
{
    private sealed class Row
    {
        public float Label { get; set; }

        [VectorType(2)]
        public float[] Features { get; set; } = [];
    }

    private static Row[] Rows(int n, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(i => new Row { Label = i % 3, Features = [(float)random.NextDouble(), (float)random.NextDouble()] }).ToArray();
    }

    private sealed class WordRow
    {
        public string Label { get; set; } = "";

        [VectorType(2)]
        public float[] Features { get; set; } = [];
    }

    private static IDataView View(MLContext ml, IEnumerable<Row> rows) => ml.Data.LoadFromEnumerable(rows);

    [TestMethod]
    public void OneClassIsRejected()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(20, 1).Select(r => new Row { Label = 2, Features = r.Features });
        var error = Assert.Throws<ArgumentException>(() => ml.Ordinal().Trainers.Presto(lambda: 0.1).Fit(View(ml, rows)));
        StringAssert.Contains(error.Message, "Label column 'Label' has only one class ('2')");
    }

    [TestMethod]
    public void AKeyClassWithoutRowsIsNamed()
    {
        var ml = new MLContext(seed: 1);
        var view = View(ml, Rows(30, 2));
        var keys = ml.Data.LoadFromEnumerable(new[] { 0f, 1f, 5f, 2f }.Select(v => new { Label = v }));
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", keyData: keys).Fit(view).Transform(view);
        var error = Assert.Throws<ArgumentException>(() => ml.Ordinal().Trainers.Presto(lambda: 0.1).Fit(keyed));
        StringAssert.Contains(error.Message, "declares 4 classes, but class '5' has no rows");
    }

    [TestMethod]
    public void LabelsOutsideTheKeyRangeAreReported()
    {
        var ml = new MLContext(seed: 1);
        var view = View(ml, Rows(30, 3));
        var keys = ml.Data.LoadFromEnumerable(new[] { 0f, 1f }.Select(v => new { Label = v }));
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", keyData: keys).Fit(view).Transform(view);
        var error = Assert.Throws<ArgumentException>(() => ml.Ordinal().Trainers.Presto(lambda: 0.1).Fit(keyed));
        StringAssert.Contains(error.Message, "Label column 'Label' has missing (out-of-range) key values in 10 of 30 rows");
    }

    [TestMethod]
    public void NaNAndConstantFeaturesAreReported()
    {
        var ml = new MLContext(seed: 1);
        var nan = Rows(30, 4);
        nan[7].Features[1] = float.NaN;
        StringAssert.Contains(Assert.Throws<ArgumentException>(() => ml.Ordinal().Trainers.Presto(lambda: 0.1).Fit(View(ml, nan))).Message,
            "Feature column 'Features' has NaN or infinite values in 1 of 30 rows (first at row 7)");
        var constant = Rows(30, 5).Select(r => new Row { Label = r.Label, Features = [r.Features[0], 3] });
        StringAssert.Contains(Assert.Throws<ArgumentException>(() => ml.Ordinal().Trainers.ProportionalOdds().Fit(View(ml, constant))).Message,
            "Feature column 'Features' is constant in slot 1 (every row is 3)");
    }

    [TestMethod]
    public void OptionsOutOfRangeAreRejectedNamingTheOption()
    {
        var ml = new MLContext(seed: 1);
        var lambda = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Ordinal().Trainers.Presto(lambda: -1));
        StringAssert.Contains(lambda.Message, "Lambda must be a finite number >= 0, but is -1");
        var folds = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Ordinal().Trainers.Presto(new PrestoTrainer.Options { NumberOfFolds = 40, Seed = 1 }).Fit(View(ml, Rows(30, 6))));
        StringAssert.Contains(folds.Message, "NumberOfFolds (40) is larger than the number of rows (30)");
        var mixing = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Ordinal().Trainers.Presto(new PrestoTrainer.Options { ElasticNetMixing = 2 }));
        StringAssert.Contains(mixing.Message, "ElasticNetMixing");
    }

    [TestMethod]
    public void PerfectSeparationIsReportedInsteadOfHanging()
    {
        var ml = new MLContext(seed: 1);
        // The first feature sorts the classes perfectly: the maximum-likelihood coefficients are infinite.
        var rows = Enumerable.Range(0, 60).Select(i => new Row { Label = i / 20, Features = [i + 0.5f * (i % 2), (i * 7) % 5] }).ToArray();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var error = Assert.Throws<InvalidOperationException>(() => ml.Ordinal().Trainers.ProportionalOdds().Fit(View(ml, rows)));
        StringAssert.Contains(error.Message, "separated");
        Assert.IsLessThan(60, watch.Elapsed.TotalSeconds);
        using var presto = ml.Ordinal().Trainers.Presto(lambda: 0.05).Fit(View(ml, rows));
        Assert.IsTrue(presto.Model.Converged, "a positive lambda keeps the fit finite");
    }

    [TestMethod]
    public void AKeyOrderedByFirstAppearanceIsRefusedWithTheFixAndClassOrderRepairsIt()
    {
        var ml = new MLContext(seed: 1);
        // Labels 1..3 whose first rows are 2, 3, 1: MapValueToKey's default orders the keys 2 < 3 < 1.
        var rows = Rows(60, 3).Select((r, i) => new Row { Label = (i + 1) % 3 + 1, Features = r.Features }).ToArray();
        var view = View(ml, rows);
        var byOccurrence = ml.Transforms.Conversion.MapValueToKey("Label").Fit(view).Transform(view);
        var error = Assert.Throws<ArgumentException>(() => ml.Ordinal().Trainers.ProportionalOdds().Fit(byOccurrence));
        StringAssert.Contains(error.Message, "key values are in the order 2, 3, 1");
        StringAssert.Contains(error.Message, "KeyOrdinality.ByValue");

        var byValue = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(view).Transform(view);
        using var expected = ml.Ordinal().Trainers.ProportionalOdds().Fit(byValue);
        using var reordered = ml.Ordinal().Trainers.ProportionalOdds(new ProportionalOddsTrainer.Options { ClassOrder = ["1", "2", "3"] }).Fit(byOccurrence);
        CollectionAssert.AreEqual(new[] { "1", "2", "3" }, reordered.Model.ClassNames.ToArray());
        Assert.AreEqual(expected.Model.LogLikelihood, reordered.Model.LogLikelihood, 1e-9, "ClassOrder gives the fit of a key made in value order");

        // The same classes as words: first appearance medium, high, low.
        var words = ml.Data.LoadFromEnumerable(rows.Select(r => new WordRow { Label = new[] { "low", "medium", "high" }[(int)r.Label - 1], Features = r.Features }));
        var wordKeys = ml.Transforms.Conversion.MapValueToKey("Label").Fit(words).Transform(words);
        StringAssert.Contains(Assert.Throws<ArgumentException>(() => ml.Ordinal().Trainers.ProportionalOdds().Fit(wordKeys)).Message, "low < medium < high");
    }

    [TestMethod]
    public void CrossValidationWithAOneRowClassSaysWhatIsWrongAndTheOptionsOutsideTheirRangeAreRefused()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(60, 4);
        rows[0].Label = 3; // the only row of class 3
        var error = Assert.Throws<ArgumentException>(() => ml.Ordinal().Trainers.Presto().Fit(View(ml, rows)));
        StringAssert.Contains(error.Message, "Class '3' of label column 'Label' has 1 row(s)");
        StringAssert.Contains(error.Message, "Give Lambda");
        Assert.AreEqual("NumberOfFolds", error.ParamName);
        using var withLambda = ml.Ordinal().Trainers.Presto(lambda: 0.05).Fit(View(ml, rows));

        var one = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Ordinal().Trainers.Presto(new PrestoTrainer.Options { NumberOfLambdas = 1 }));
        StringAssert.Contains(one.Message, "NumberOfLambdas must be at least 2");
    }

    [TestMethod]
    public void ARowWithANaNFeatureGetsNoClassAndTheEvaluatorCountsIt()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(90, 5);
        using var model = ml.Ordinal().Trainers.ProportionalOdds().Fit(View(ml, rows));
        var test = rows.Take(10).Select(r => new Row { Label = r.Label, Features = r.Features.ToArray() }).ToArray();
        test[3].Features[1] = float.NaN;
        var scored = model.Transform(View(ml, test));
        var predicted = scored.GetColumn<uint>(ColumnNames.PredictedLabel).ToArray();
        Assert.AreEqual(0u, predicted[3], "the missing key, not class 1");
        Assert.IsTrue(predicted.Where((_, i) => i != 3).All(p => p > 0));
        var metrics = ml.Ordinal().Evaluate(scored);
        Assert.AreEqual(1, metrics.UnscoredRows);
        Assert.AreEqual(9, metrics.RowCount);
    }
}
