using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;
using TorchSharp;

namespace Microsoft.ML.PaperExtensions.Tests.Data;

[TestClass]
public sealed class DataViewReaderTests
{
    private sealed class Row
    {
        public float A { get; set; }

        [VectorType(2)]
        public double[] B { get; set; } = new double[2];

        [VectorType(3)]
        public float[] C { get; set; } = new float[3];

        public bool Flag { get; set; }

        public string Text { get; set; } = "";

        public float Weight { get; set; } = 1;

        public int Count { get; set; }
    }

    private static Row[] Rows() =>
    [
        new() { A = 1, B = [2, 3], C = [4, 5, 6], Flag = true, Text = "x", Weight = 0.5f, Count = 7 },
        new() { A = -1, B = [0.25, 1e300], C = [0, 0, 1], Flag = false, Text = "y", Weight = 2, Count = -3 },
    ];

    [TestMethod]
    public void ConcatenatesScalarAndVectorColumnsOfSingleAndDoubleInTheOrderGiven()
    {
        var ml = new MLContext(seed: 1);
        var data = DataViewReader.Read(ml.Data.LoadFromEnumerable(Rows()), new(["C", "A", "B"], "Count", "Weight"));

        Assert.AreEqual(2, data.RowCount);
        Assert.AreEqual(6, data.FeatureCount);
        CollectionAssert.AreEqual(new[] { new FeatureSlot("C", 0, 3), new FeatureSlot("A", 3, 1), new FeatureSlot("B", 4, 2) }, data.FeatureSlots.ToArray());
        CollectionAssert.AreEqual(new double[] { 4, 5, 6, 1, 2, 3, 0, 0, 1, -1, 0.25, 1e300 }, data.Features);
        CollectionAssert.AreEqual(new double[] { 7, -3 }, data.Label);
        CollectionAssert.AreEqual(new double[] { 0.5, 2 }, data.Weights);
    }

    [TestMethod]
    public void FeatureTensorIsFloat64RowsByFeatures()
    {
        var ml = new MLContext(seed: 1);
        var data = DataViewReader.Read(ml.Data.LoadFromEnumerable(Rows()), new(["A", "B"]));
        using var tensor = data.FeatureTensor();
        CollectionAssert.AreEqual(new long[] { 2, 3 }, tensor.shape);
        Assert.AreEqual(torch.ScalarType.Float64, tensor.dtype);
        Assert.AreEqual(1e300, tensor[1, 2].item<double>());
    }

    [TestMethod]
    public void ReadsBooleanKeyAndTextLabels()
    {
        var ml = new MLContext(seed: 1);
        var view = ml.Data.LoadFromEnumerable(Rows());
        CollectionAssert.AreEqual(new double[] { 1, 0 }, DataViewReader.Read(view, new(["A"], "Flag")).Label);
        CollectionAssert.AreEqual(new[] { "x", "y" }, DataViewReader.Read(view, new(["A"], "Text")).TextLabel);

        var keyed = ml.Transforms.Conversion.MapValueToKey("Key", "Text").Fit(view).Transform(view);
        CollectionAssert.AreEqual(new double[] { 0, 1 }, DataViewReader.Read(keyed, new(["A"], "Key")).Label, "keys are read as 0-based indices");
    }

    [TestMethod]
    public void CursorAsksOnlyForTheNeededColumns()
    {
        var ml = new MLContext(seed: 1);
        var tracking = new TrackingDataView(ml.Data.LoadFromEnumerable(Rows()));
        DataViewReader.Read(tracking, new(["B"], "Count"));
        CollectionAssert.AreEquivalent(new[] { "B", "Count" }, tracking.Requested);
    }

    [TestMethod]
    public void NonFiniteFeaturesAreReportedWithTheColumnAndRowCount()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows().Concat([new Row { B = [double.NaN, 1] }, new Row { B = [1, double.PositiveInfinity] }]).ToArray();
        var error = Assert.Throws<ArgumentException>(() => DataViewReader.Read(ml.Data.LoadFromEnumerable(rows), new(["A", "B"])));
        Assert.AreEqual("Feature column 'B' has NaN or infinite values in 2 of 4 rows (first at row 2). (Parameter 'FeatureColumnName')", error.Message);
    }

    [TestMethod]
    public void MissingKeysAndNegativeWeightsAreReported()
    {
        var ml = new MLContext(seed: 1);
        var view = ml.Data.LoadFromEnumerable(Rows());
        var keyed = ml.Transforms.Conversion.MapValueToKey("Key", "Text", keyData: ml.Data.LoadFromEnumerable(new[] { new { Text = "x" } })).Fit(view).Transform(view);
        var key = Assert.Throws<ArgumentException>(() => DataViewReader.Read(keyed, new(["A"], "Key")));
        StringAssert.Contains(key.Message, "Label column 'Key' has missing (out-of-range) key values in 1 of 2 rows (first at row 1)");

        var negative = Rows();
        negative[0].Weight = -1;
        var weight = Assert.Throws<ArgumentException>(() => DataViewReader.Read(ml.Data.LoadFromEnumerable(negative), new(["A"], WeightColumn: "Weight")));
        StringAssert.Contains(weight.Message, "Example weight column 'Weight' has NaN, infinite or negative values in 1 of 2 rows");
    }

    [TestMethod]
    public void SchemaErrorsNameTheColumnTheExpectedTypeAndWhatWasFound()
    {
        var ml = new MLContext(seed: 1);
        var view = ml.Data.LoadFromEnumerable(Rows());
        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => new InputColumns().Features("FeatureColumnName", ["Nope"]).Check(view.Schema));
        StringAssert.Contains(missing.Message, "Feature column 'Nope' was not found in the input schema (columns: A, B, C, Flag, Text, Weight, Count)");
        Assert.AreEqual("FeatureColumnName", missing.ParamName, "the option that names the column");
        var text = Assert.Throws<ArgumentOutOfRangeException>(() => new InputColumns().Features("FeatureColumnName", ["Text"]).Check(view.Schema));
        StringAssert.Contains(text.Message, "Feature column 'Text' has the wrong type: expected Single or Double, scalar or known-size vector, but found String");
        var label = Assert.Throws<ArgumentOutOfRangeException>(() => new InputColumns().Add("label", "LabelColumnName", "Text", ColumnTypes.Key | ColumnTypes.Number).Check(view.Schema));
        StringAssert.Contains(label.Message, "Label column 'Text' has the wrong type: expected a key or numeric scalar, but found String");
    }

    [TestMethod]
    public void EmptyDataAndCancellationAreReported()
    {
        var ml = new MLContext(seed: 1);
        var empty = Assert.Throws<ArgumentException>(() => DataViewReader.Read(ml.Data.LoadFromEnumerable(Array.Empty<Row>()), new(["A"])));
        StringAssert.Contains(empty.Message, "no rows");
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => DataViewReader.Read(ml.Data.LoadFromEnumerable(Rows()), new(["A"]), cancelled.Token));
    }

    [TestMethod]
    public void GrowsBeyondTheInitialCapacityWhenTheRowCountIsUnknown()
    {
        var ml = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, 5000).Select(i => new Row { A = i, B = [i, -i] });
        // A lazily enumerated source has no row count, so the reader starts small and grows.
        var view = ml.Data.LoadFromEnumerable(rows.Select(r => r));
        Assert.IsNull(view.GetRowCount());
        var data = DataViewReader.Read(view, new(["A", "B"]));
        Assert.AreEqual(5000, data.RowCount);
        Assert.AreEqual(4999.0, data.Features[4999 * 3]);
        Assert.AreEqual(-4999.0, data.Features[4999 * 3 + 2]);
    }

    /// <summary>Records which columns a cursor was asked for.</summary>
    private sealed class TrackingDataView(IDataView inner) : IDataView
    {
        public List<string> Requested { get; } = [];

        public bool CanShuffle => inner.CanShuffle;

        public DataViewSchema Schema => inner.Schema;

        public long? GetRowCount() => inner.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
        {
            var columns = columnsNeeded.ToList();
            Requested.AddRange(columns.Select(c => c.Name));
            return inner.GetRowCursor(columns, rand);
        }

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
            [GetRowCursor(columnsNeeded, rand)];
    }
}
