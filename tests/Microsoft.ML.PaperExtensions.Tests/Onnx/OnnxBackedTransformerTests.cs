using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.PaperExtensions.Tests.TestDoubles;

namespace Microsoft.ML.PaperExtensions.Tests.Onnx;

[TestClass]
public sealed class OnnxBackedTransformerTests
{
    internal sealed class Row
    {
        [VectorType(3)]
        public float[] Features { get; set; } = [];

        public double Extra { get; set; }

        public float Label { get; set; }
    }

    internal sealed class RowWithoutExtra
    {
        [VectorType(3)]
        public float[] Features { get; set; } = new float[3];

        public float Label { get; set; }
    }

    internal sealed class Prediction
    {
        public float Score { get; set; }

        public uint PredictedLabel { get; set; }
    }

    internal static Row[] MakeRows(int n, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ =>
        {
            var f = new[] { (float)random.NextDouble(), (float)random.NextDouble(), (float)random.NextDouble() };
            var extra = random.NextDouble() * 10;
            return new Row { Features = f, Extra = extra, Label = (float)(1 + 2 * f[0] - 3 * f[1] + 0.5 * f[2] + 0.25 * extra + 0.01 * random.NextDouble()) };
        }).ToArray();
    }

    [TestMethod]
    public void FitRecoversKnownCoefficientsAndOnnxScoresMatchTheManagedMath()
    {
        var ml = new MLContext(seed: 1);
        var rows = MakeRows(200, 7);
        var data = ml.Data.LoadFromEnumerable(rows);
        using var model = new LeastSquaresEstimator(ml, "Label", "Features", "Extra").Fit(data);

        // Label = 1 + 2 f0 - 3 f1 + 0.5 f2 + 0.25 extra + noise in [0, 0.01): least squares recovers them to about 0.01.
        var truth = new[] { 2.0, -3.0, 0.5, 0.25 };
        for (var j = 0; j < truth.Length; j++)
        {
            Assert.AreEqual(truth[j], model.Weights[j], 0.01, $"weight {j}");
        }
        Assert.AreEqual(1.005, model.Bias, 0.01, "bias");
        var scores = ml.Data.CreateEnumerable<Prediction>(model.Transform(data), reuseRowObject: false).ToArray();
        for (var i = 0; i < rows.Length; i++)
        {
            var expected = model.Bias + rows[i].Features.Select((f, j) => f * model.Weights[j]).Sum() + rows[i].Extra * model.Weights[3];
            Assert.AreEqual(expected, scores[i].Score, 1e-5 * Math.Max(1, Math.Abs(expected)), $"row {i}");
        }
    }

    [TestMethod]
    public void OutputsArePerRowScalarsAndPredictedLabelIsAKeyWithClassNames()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(MakeRows(50, 3));
        using var model = new LeastSquaresEstimator(ml, "Label", "Features", "Extra").Fit(data);
        var schema = model.GetOutputSchema(data.Schema);

        Assert.AreEqual(NumberDataViewType.Single, schema["Score"].Type);
        var key = schema["PredictedLabel"].Type as KeyDataViewType;
        Assert.IsNotNull(key, $"PredictedLabel is {schema["PredictedLabel"].Type}");
        Assert.AreEqual(2UL, key.Count);
        var names = default(VBuffer<ReadOnlyMemory<char>>);
        schema["PredictedLabel"].GetKeyValues(ref names);
        CollectionAssert.AreEqual(new[] { "low", "high" }, names.DenseValues().Select(v => v.ToString()).ToArray());
    }

    [TestMethod]
    public void SavedModelLoadsInAFreshContextAndPredictsIdentically()
    {
        var ml = new MLContext(seed: 1);
        var rows = MakeRows(60, 5);
        var data = ml.Data.LoadFromEnumerable(rows);
        var pipeline = ml.Transforms.NormalizeMinMax("Features").Append(new LeastSquaresEstimator(ml, "Label", "Features", "Extra"));
        var model = pipeline.Fit(data);
        var path = Path.Combine(Path.GetTempPath(), $"paperext-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(model, data.Schema, path);
            var fresh = new MLContext(seed: 2);
            var loaded = fresh.Model.Load(path, out var loadedSchema);
            Assert.AreEqual(data.Schema.Count, loadedSchema.Count);

            var before = ml.Data.CreateEnumerable<Prediction>(model.Transform(data), false).ToArray();
            var after = fresh.Data.CreateEnumerable<Prediction>(loaded.Transform(fresh.Data.LoadFromEnumerable(rows)), false).ToArray();
            var engine = fresh.Model.CreatePredictionEngine<Row, Prediction>(loaded);
            for (var i = 0; i < rows.Length; i++)
            {
                Assert.AreEqual(before[i].Score, after[i].Score, $"row {i}");
                Assert.AreEqual(before[i].PredictedLabel, after[i].PredictedLabel, $"row {i}");
                var single = engine.Predict(rows[i]);
                Assert.AreEqual(before[i].Score, single.Score, $"engine row {i}");
                Assert.AreEqual(before[i].PredictedLabel, single.PredictedLabel, $"engine row {i}");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void StandaloneOnnxExportScoresABatchInOnnxRuntime()
    {
        var ml = new MLContext(seed: 1);
        var rows = MakeRows(40, 11);
        var data = ml.Data.LoadFromEnumerable(rows);
        using var model = new LeastSquaresEstimator(ml, "Label", "Features", "Extra").Fit(data);
        var expected = ml.Data.CreateEnumerable<Prediction>(model.Transform(data), false).ToArray();

        using var stream = new MemoryStream();
        model.SaveAsOnnx(stream);
        using var session = new InferenceSession(stream.ToArray());
        var features = new DenseTensor<float>(rows.SelectMany(r => r.Features).ToArray(), [rows.Length, 3]);
        var extra = new DenseTensor<double>(rows.Select(r => r.Extra).ToArray(), [rows.Length, 1]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("Features", features), NamedOnnxValue.CreateFromTensor("Extra", extra)]);
        var scores = results.Single(r => r.Name == "Score").AsTensor<float>().ToArray();
        var labels = results.Single(r => r.Name == "PredictedLabel").AsTensor<uint>().ToArray();

        Assert.AreEqual(rows.Length, scores.Length);
        for (var i = 0; i < rows.Length; i++)
        {
            Assert.AreEqual(expected[i].Score, scores[i], $"row {i}");
            Assert.AreEqual(expected[i].PredictedLabel, labels[i], $"row {i}");
        }
    }

    [TestMethod]
    public void MissingFeatureColumnFailsNamingIt()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(MakeRows(20, 1));
        using var model = new LeastSquaresEstimator(ml, "Label", "Features", "Extra").Fit(data);
        var other = ml.Data.LoadFromEnumerable(new[] { new RowWithoutExtra() });
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => model.GetOutputSchema(other.Schema));
        StringAssert.Contains(error.Message, "'Extra'");
    }
}
