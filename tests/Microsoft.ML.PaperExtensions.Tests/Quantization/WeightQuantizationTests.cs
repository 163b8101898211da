using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.FineTuning;
using Microsoft.ML.PaperExtensions.Tests.FineTuning;
using Microsoft.ML.PaperExtensions.Quantization;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.TestSupport;
using Microsoft.ML.PaperExtensions.Tests.Text;
using Microsoft.ML.PaperExtensions.Text;
using Microsoft.ML.PaperExtensions.TextEmbedding;

namespace Microsoft.ML.PaperExtensions.Tests.Quantization;

/// <summary>The quantization estimator on real and tiny models: same columns, close outputs, MatMulNBits in the graph, save and load, clear errors.</summary>
[TestClass]
public sealed class WeightQuantizationTests
{
    private sealed class Row
    {
        public string Text { get; set; } = "";
    }

    private sealed class Embedded
    {
        public float[] Embedding { get; set; } = [];
    }

    private static Row[] FineFoods(int skip, int count) =>
        File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Data", "fine_foods_test.csv")).Skip(1 + skip).Take(count)
            .Select(line => new Row { Text = line[..line.LastIndexOf(',')].Trim('"').Replace("\"\"", "\"") }).ToArray();

    private static TextEmbeddingTransformer MiniLm(MLContext ml, IDataView data) => ml.Transforms.Text.TransformerEmbedding(new TextEmbeddingEstimator.Options
    {
        InputColumnName = "Text", ModelPath = PretrainedModels.MiniLmFolder, MaxSequenceLength = 128, Device = ComputeDevice.Cpu,
    }).Fit(data);

    private static float[][] Vectors(MLContext ml, IDataView scored) => ml.Data.CreateEnumerable<Embedded>(scored, false).Select(r => r.Embedding).ToArray();

    [TestMethod]
    public void AwqOnMiniLmKeepsTheEmbeddingsRunsMatMulNBitsAndSavesAndLoads()
    {
        var ml = new MLContext(seed: 1);
        var calibration = ml.Data.LoadFromEnumerable(FineFoods(0, 40));
        var test = ml.Data.LoadFromEnumerable(FineFoods(100, 24));
        using var full = MiniLm(ml, test);
        using var quantized = ml.Transforms.QuantizeWeights(full, new WeightQuantizationEstimator.Options { CalibrationSamples = 32 }).Fit(calibration);

        var report = quantized.Report;
        Assert.HasCount(36, report.Layers, "every encoder Linear of six layers");
        Assert.AreEqual(32, report.CalibrationTexts);
        Assert.AreEqual(8, report.HeldOutTexts);
        Assert.IsTrue(report.Layers.All(l => l.HeldOut && l.Bits == 4 && l.GroupSize == 128 && l.AwqAlpha is not null));
        Assert.IsTrue(report.Layers.All(l => l.RelativeError <= l.RtnRelativeError * 1.05), "AWQ is not worse than RTN on held-out texts (5% slack)");
        Assert.IsLessThan(0.25, (double)report.BytesAfter / report.BytesBefore, "quantized Linears under a quarter of their float32 bytes");
        Assert.AreEqual(4.156, report.BitsPerWeight, 0.2, "4 bits + scales, zero points and AWQ's input scales");

        var scored = quantized.Transform(test);
        CollectionAssert.AreEqual(full.Transform(test).Schema.Select(c => (c.Name, c.Type)).ToArray(), scored.Schema.Select(c => (c.Name, c.Type)).ToArray(), "same columns");
        var reference = Vectors(ml, full.Transform(test));
        var actual = Vectors(ml, scored);
        var cosines = reference.Zip(actual, TextData.Cosine).ToArray();
        Assert.IsGreaterThan(0.95, cosines.Average(), $"mean cosine {cosines.Average():F4}");

        using (var stream = new MemoryStream())
        {
            quantized.SaveAsOnnx(stream);
            var graph = global::Onnx.ModelProto.Parser.ParseFrom(stream.ToArray());
            Assert.AreEqual(36, graph.Graph.Node.Count(n => n.OpType == "MatMulNBits" && n.Domain == "com.microsoft"));
            Assert.AreEqual(0, graph.Graph.Node.Count(n => n.OpType == "MatMul" && n.Input.Any(i => i.EndsWith(".weight", StringComparison.Ordinal))), "no float weight matrix left");
        }

        var rowByRow = Vectors(ml, quantized.TransformRowByRow(test));
        for (int i = 0; i < actual.Length; i++) Assert.IsLessThan(1e-5, EncoderRun.MaxAbsDifference(actual[i], rowByRow[i]), $"row {i}: batched vs the saved chain");
        string path = Path.Combine(Directory.CreateTempSubdirectory().FullName, "quantized.zip");
        ml.Model.Save(quantized, test.Schema, path);
        var fresh = new MLContext(seed: 2);
        fresh.ComponentCatalog.RegisterAssembly(typeof(PretrainedEncoder).Assembly);
        var loaded = fresh.Model.Load(path, out _);
        var reloaded = Vectors(fresh, loaded.Transform(fresh.Data.LoadFromEnumerable(FineFoods(100, 24))));
        for (int i = 0; i < actual.Length; i++) Assert.IsLessThan(1e-5, EncoderRun.MaxAbsDifference(actual[i], reloaded[i]), $"row {i}: reloaded");
        double zipRatio = (double)new FileInfo(path).Length / report.ModelBytesAfter;
        Assert.IsTrue(zipRatio is > 0.8 and < 1.1, $"the model zip ({new FileInfo(path).Length:N0} bytes) holds what the report counts ({report.ModelBytesAfter:N0})");
        Assert.IsLessThan(0.7 * report.ModelBytesBefore, report.ModelBytesAfter, "the float32 word embeddings stay; the encoder Linears shrink");
    }

    [TestMethod]
    [DataRow(QuantizationMethod.Rtn)]
    [DataRow(QuantizationMethod.Awq)]
    [DataRow(QuantizationMethod.Gwq)]
    [DataRow(QuantizationMethod.AdaDim)]
    [DataRow(QuantizationMethod.FlexRound)]
    public void EveryMethodQuantizesAFineTunedClassifierThatStillPredicts(QuantizationMethod method)
    {
        var ml = new MLContext(seed: 1);
        var reviews = TextFineTuningTrainerTests.Reviews(96, 1);
        var data = ml.Data.LoadFromEnumerable(reviews);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.FineTuneText(new TextFineTuningTrainer.Options
        {
            ModelPath = TinyBertBatch.Folder("tiny-bert"), Rank = 4, Alpha = 8, LearningRate = 1e-2, Epochs = 8, BatchSize = 8, MaxSequenceLength = 32, Seed = 5, Device = ComputeDevice.Cpu,
        }));
        using var model = pipeline.Fit(data);
        var tuned = (TextFineTuningTransformer)model.LastTransformer;
        var keyed = model.First().Transform(data);
        using var quantized = ml.Transforms.QuantizeWeights(tuned, new WeightQuantizationEstimator.Options
        {
            Method = method, Bits = 8, GroupSize = 16, CalibrationSamples = 48, Seed = 3, FlexRoundIterations = 20, QuantizeHead = true,
        }).Fit(keyed);
        Assert.HasCount(13, quantized.Report.Layers, "12 encoder Linears and the head");
        Assert.AreEqual("classifier", quantized.Report.Layers[^1].Layer);
        Assert.IsTrue(quantized.Report.Layers.All(l => l.Method == method));
        if (method == QuantizationMethod.Gwq) Assert.IsTrue(quantized.Report.Layers.All(l => l.Outliers == (int)Math.Round(0.01 * l.BytesBefore / 4)));

        var test = model.First().Transform(ml.Data.LoadFromEnumerable(TextFineTuningTrainerTests.Reviews(64, 2)));
        var before = ml.MulticlassClassification.Evaluate(tuned.Transform(test));
        var after = ml.MulticlassClassification.Evaluate(quantized.Transform(test));
        Assert.AreEqual(before.MicroAccuracy, after.MicroAccuracy, 0.05, "8-bit weights keep the accuracy");
        Assert.IsGreaterThan(0.85, after.MicroAccuracy);
        var names = quantized.Transform(test).Schema["PredictedLabel"].Annotations.Schema.Select(c => c.Name).ToArray();
        CollectionAssert.Contains(names, "KeyValues", "the class names stay on PredictedLabel");
    }

    [TestMethod]
    public void AFineTunedModelLoadedFromItsZipIsRebuiltScoresTheSameAndQuantizes()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(TextFineTuningTrainerTests.Reviews(64, 1));
        using var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.FineTuneText(new TextFineTuningTrainer.Options
        {
            ModelPath = TinyBertBatch.Folder("tiny-bert"), Rank = 4, Alpha = 8, LearningRate = 1e-2, Epochs = 4, BatchSize = 8, MaxSequenceLength = 32, Seed = 5, Device = ComputeDevice.Cpu,
        })).Fit(data);
        string zip = Path.Combine(Directory.CreateTempSubdirectory().FullName, "classifier.zip");
        ml.Model.Save(model, data.Schema, zip);

        var fresh = new MLContext(seed: 2);
        fresh.ComponentCatalog.RegisterAssembly(typeof(PretrainedEncoder).Assembly);
        var loaded = fresh.Model.Load(zip, out var schema);
        using var rebuilt = TextModelTransformer.FromLoaded(fresh, loaded, schema);
        var test = fresh.Data.LoadFromEnumerable(TextFineTuningTrainerTests.Reviews(32, 2));
        var expected = loaded.Transform(test);
        var actual = rebuilt.Transform(((TransformerChain<ITransformer>)loaded).First().Transform(test));
        var expectedScores = expected.GetColumn<float[]>("Score").ToArray();
        var actualScores = actual.GetColumn<float[]>("Score").ToArray();
        for (int i = 0; i < expectedScores.Length; i++) Assert.IsLessThan(1e-5, EncoderRun.MaxAbsDifference(expectedScores[i], actualScores[i]), $"row {i}");
        var names = default(VBuffer<ReadOnlyMemory<char>>);
        actual.Schema["PredictedLabel"].GetKeyValues(ref names);
        CollectionAssert.AreEqual(new[] { "pos", "neg" }, names.DenseValues().Select(v => v.ToString()).ToArray());

        using var quantized = fresh.Transforms.QuantizeWeights(rebuilt, QuantizationMethod.Rtn, bits: 8, groupSize: 16).Fit(((TransformerChain<ITransformer>)loaded).First().Transform(data));
        string quantizedZip = Path.Combine(Path.GetDirectoryName(zip)!, "quantized.zip");
        fresh.Model.Save(quantized, schema, quantizedZip);
        var again = fresh.Model.Load(quantizedZip, out var quantizedSchema);
        var refused = Assert.ThrowsExactly<InvalidOperationException>(() => TextModelTransformer.FromLoaded(fresh, again, quantizedSchema));
        StringAssert.Contains(refused.Message, "already quantized");
    }

    [TestMethod]
    public void BadOptionsAndCalibrationDataGetErrorsNamingTheOptionAndTheValue()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(TextFineTuningTrainerTests.Reviews(8, 1));
        using var model = ml.Transforms.Text.TransformerEmbedding(new TextEmbeddingEstimator.Options
        {
            InputColumnName = "Text", ModelPath = TinyBertBatch.Folder("tiny-bert"), MaxSequenceLength = 32, Device = ComputeDevice.Cpu,
        }).Fit(data);

        var bits = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.QuantizeWeights(model, bits: 5));
        Assert.AreEqual("Bits", bits.ParamName);
        StringAssert.Contains(bits.Message, "2, 3, 4, 8");
        var group = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.QuantizeWeights(model, groupSize: 48));
        Assert.AreEqual("GroupSize", group.ParamName);
        StringAssert.Contains(group.Message, "48");
        var head = Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.QuantizeWeights(model, new WeightQuantizationEstimator.Options { QuantizeHead = true }));
        Assert.AreEqual("QuantizeHead", head.ParamName);
        var targets = Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.QuantizeWeights(model, new WeightQuantizationEstimator.Options { TargetModules = ["word_embeddings"] }));
        StringAssert.Contains(targets.Message, "word_embeddings");
        StringAssert.Contains(targets.Message, "query, key, value, dense");

        var empty = ml.Data.LoadFromEnumerable(new[] { new TextFineTuningTrainerTests.Review(), new TextFineTuningTrainerTests.Review() });
        var noText = Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.QuantizeWeights(model).Fit(empty));
        StringAssert.Contains(noText.Message, "'Text'");
        var wrongColumn = ml.Data.LoadFromEnumerable(new[] { new Row() }.Select(r => new { Body = "x" }));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.QuantizeWeights(model).Fit(wrongColumn));

        // An encoder whose activations turn NaN: the error names the first Linear that sees them.
        var checkpoint = model.Scorer.Checkpoint;
        var broken = new Dictionary<string, EncoderTensor>(checkpoint.Tensors);
        var bias = (float[])broken["encoder.layer.1.attention.output.dense.bias"].Values.Clone();
        bias[0] = float.NaN;
        broken["encoder.layer.1.attention.output.dense.bias"] = broken["encoder.layer.1.attention.output.dense.bias"] with { Values = bias };
        using var nan = new LoadedTextModel(new TextScorer(ml, checkpoint with { Tensors = broken }, model.Scorer.Tokenizer, model.Scorer.Settings, data.Schema));
        var notFinite = Assert.ThrowsExactly<InvalidDataException>(() => ml.Transforms.QuantizeWeights(nan, QuantizationMethod.Rtn).Fit(data));
        StringAssert.Contains(notFinite.Message, "encoder.layer.1.intermediate.dense");
        StringAssert.Contains(notFinite.Message, "NaN");

        using var once = ml.Transforms.QuantizeWeights(model, QuantizationMethod.Rtn).Fit(data);
        var twice = Assert.ThrowsExactly<InvalidOperationException>(() => ml.Transforms.QuantizeWeights(once, QuantizationMethod.Rtn).Fit(data));
        StringAssert.Contains(twice.Message, "already quantized");
    }
}
