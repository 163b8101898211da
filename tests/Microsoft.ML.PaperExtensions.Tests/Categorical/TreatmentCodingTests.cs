using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Categorical;
using Microsoft.ML.PaperExtensions.Data;

namespace Microsoft.ML.PaperExtensions.Tests.Categorical;

[TestClass]
public sealed class TreatmentCodingTests
{
    private sealed class Row
    {
        public string Colour { get; set; } = "";
        public float Dose { get; set; }
    }

    private static readonly Row[] Rows =
    [
        new() { Colour = "red", Dose = 10 }, new() { Colour = "blue", Dose = 2 }, new() { Colour = "red", Dose = 5 }, new() { Colour = "green", Dose = 2 },
    ];

    [TestMethod]
    public void TextLevelsFollowFirstAppearanceNumbersAscendAndTheReferenceCodesAsZeros()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Rows);
        var coding = ml.Transforms.Categorical.TreatmentCoding("Colour", "Dose").Fit(data);
        CollectionAssert.AreEqual(new[] { "red", "blue", "green" }, coding.Levels["Colour"].ToArray());
        CollectionAssert.AreEqual(new[] { "2", "5", "10" }, coding.Levels["Dose"].ToArray());

        var coded = coding.Transform(data);
        var colour = coded.GetColumn<float[]>("Colour").ToArray();
        var dose = coded.GetColumn<float[]>("Dose").ToArray();
        CollectionAssert.AreEqual(new float[] { 0, 0 }, colour[0], "red is the reference");
        CollectionAssert.AreEqual(new float[] { 1, 0 }, colour[1], "blue");
        CollectionAssert.AreEqual(new float[] { 0, 1 }, colour[3], "green");
        CollectionAssert.AreEqual(new float[] { 0, 1 }, dose[0], "dose 10 is the third level");
        CollectionAssert.AreEqual(new float[] { 0, 0 }, dose[1], "dose 2 is the reference");
        var slots = default(VBuffer<ReadOnlyMemory<char>>);
        coded.Schema["Colour"].GetSlotNames(ref slots);
        CollectionAssert.AreEqual(new[] { "blue", "green" }, slots.DenseValues().Select(s => s.ToString()).ToArray(), "slot names are the coded levels");
    }

    [TestMethod]
    public void GivenLevelsChooseTheReferenceAndUnseenValuesCodeAsZeros()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Rows);
        var coding = ml.Transforms.Categorical.TreatmentCoding(new TreatmentCodingEstimator.ColumnOptions("Coded", "Colour", ["green", "red", "blue"])).Fit(data);
        var coded = coding.Transform(ml.Data.LoadFromEnumerable(new[] { new Row { Colour = "red" }, new Row { Colour = "purple" } })).GetColumn<float[]>("Coded").ToArray();
        CollectionAssert.AreEqual(new float[] { 1, 0 }, coded[0]);
        CollectionAssert.AreEqual(new float[] { 0, 0 }, coded[1], "an unseen level codes as the reference, as ML.NET's one-hot coding does");
    }

    [TestMethod]
    public void SavesAsMlNetTypesAndRejectsBadColumnsNamingThem()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Rows);
        var estimator = ml.Transforms.Categorical.TreatmentCoding("Colour");
        var shape = estimator.GetOutputSchema(SchemaShapes.FromSchema(data.Schema));
        Assert.AreEqual(SchemaShape.Column.VectorKind.Vector, shape.Single(c => c.Name == "Colour").Kind);
        var coding = estimator.Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(coding, data.Schema, stream);
        stream.Position = 0;
        var loaded = new MLContext(seed: 2).Model.Load(stream, out _);
        Assert.IsFalse(((IEnumerable<ITransformer>)loaded).Any(t => t.GetType().Assembly.GetName().Name!.StartsWith("Microsoft.ML.PaperExtensions", StringComparison.Ordinal)));
        CollectionAssert.AreEqual(coding.Transform(data).GetColumn<float[]>("Colour").SelectMany(v => v).ToArray(), loaded.Transform(data).GetColumn<float[]>("Colour").SelectMany(v => v).ToArray());

        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.Categorical.TreatmentCoding("Shape").Fit(data));
        StringAssert.Contains(missing.Message, "Categorical column 'Shape' was not found");
        var one = Assert.Throws<ArgumentException>(() => ml.Transforms.Categorical.TreatmentCoding("Colour").Fit(ml.Data.LoadFromEnumerable(Rows.Take(1))));
        StringAssert.Contains(one.Message, "'Colour' has only one level ('red')");
    }
}
