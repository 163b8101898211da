using Microsoft.ML.PaperExtensions.FineTuning;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.Tests.Text;
using Microsoft.ML.PaperExtensions.Text;
using Microsoft.ML.PaperExtensions.Text.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Tests.FineTuning;

/// <summary>The fine-tuning loop on the tiny random BERT: it learns, it touches only what it should, a seed repeats it, divergence is named.</summary>
[TestClass]
public sealed class FineTunerTests
{
    [ClassInitialize]
    public static void Initialise(TestContext _) => TorchRuntime.EnsureInitialized();

    /// <summary>Two classes told apart by their words: happy/good/love texts against sad/bad/old ones, on random fillers.</summary>
    private static (string[] Texts, float[] Labels) Sentences(int count, int seed)
    {
        var random = new Random(seed);
        string[] positive = ["happy", "good", "love", "like"], negative = ["sad", "bad", "old", "no"];
        string[] fillers = ["the", "cat", "dog", "bird", "sat", "on", "mat", "house", "tree", "car", "park", "day", "night", "water", "food", "coffee", "tea"];
        var texts = new string[count];
        var labels = new float[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = i % 2;
            var words = Enumerable.Range(0, 3 + random.Next(8)).Select(_ => fillers[random.Next(fillers.Length)]).ToList();
            var cue = (i % 2 == 0 ? positive : negative)[random.Next(4)];
            words.Insert(random.Next(words.Count + 1), cue);
            texts[i] = string.Join(' ', words);
        }
        return (texts, labels);
    }

    private static FineTuningSettings Settings(AdapterKind? kind, int outputs = 2, double rate = 1e-2, FineTuningOptimizer optimizer = FineTuningOptimizer.AdamW) =>
        new(kind is { } k ? new AdapterSettings(k, 4, 8, 0.1, 2, ["query", "value"]) : null, outputs, EmbeddingPooling.Mean, optimizer, rate,
            WeightDecay: 0.01, WarmupFraction: 0.1, GradientClipping: 1.0, BatchSize: 8, Epochs: 8, MaxSequenceLength: 32, HeadDropout: 0.1);

    private static (FineTuneResult Result, BertModel Encoder, EncoderCheckpoint Checkpoint) Run(FineTuningSettings settings, int seed = 3, string[]? texts = null, float[]? targets = null)
    {
        var checkpoint = HuggingFaceCheckpoint.Read(TinyBertBatch.Folder("tiny-bert"));
        var tokenizer = BertWordPieceTokenizer.FromVocabulary(Path.Combine(TinyBertBatch.Folder("tiny-bert"), "vocab.txt"));
        var encoder = BertModel.FromCheckpoint(checkpoint);
        if (settings.Adapters is { } adapters) EncoderAdapters.Attach(encoder, adapters, new Generator(11));
        using var head = new TextHead(checkpoint.Config.HiddenSize, settings.Outputs, settings.Pooling, settings.HeadDropout, new Generator((ulong)seed));
        if (texts is null) (texts, targets) = Sentences(64, 1);
        var context = new TrainingContext(new MLContext(seed: 1), "test", ComputeDevice.Cpu, seed, null, CancellationToken.None);
        return (FineTuner.Train(encoder, head, tokenizer, texts, null, targets!, settings, context), encoder, checkpoint);
    }

    [TestMethod]
    [DataRow(FineTuningMethod.Lora)]
    [DataRow(FineTuningMethod.RsLora)]
    [DataRow(FineTuningMethod.Dora)]
    [DataRow(FineTuningMethod.AlLora)]
    [DataRow(FineTuningMethod.Full)]
    public void AFewEpochsLowerTheLossAndOnlyTrainableWeightsMove(FineTuningMethod method)
    {
        AdapterKind? kind = method == FineTuningMethod.Full ? null : (AdapterKind)method;
        var (result, encoder, checkpoint) = Run(Settings(kind));
        Assert.IsLessThan(0.6 * result.EpochLosses[0], result.EpochLosses[^1], $"loss by epoch: {string.Join(", ", result.EpochLosses.Select(l => l.ToString("F3")))}");
        Assert.AreEqual(8 * 8, result.Steps);
        var moved = encoder.named_parameters().Where(p => checkpoint.Tensors.TryGetValue(p.name, out var t) && !t.Values.SequenceEqual(p.parameter.data<float>().ToArray()))
            .Select(p => p.name).ToList();
        if (kind is null)
        {
            Assert.AreEqual(result.TotalParameters, result.TrainableParameters);
            Assert.IsNotEmpty(moved, "full fine-tuning changes the encoder");
        }
        else
        {
            Assert.IsEmpty(moved, "frozen weights are bitwise unchanged: " + string.Join(", ", moved.Take(3)));
            Assert.IsLessThan(result.TotalParameters / 10, result.TrainableParameters);
        }
    }

    [TestMethod]
    public void ASeedRepeatsAFineTuneExactly()
    {
        var first = Run(Settings(AdapterKind.Lora)).Result.EpochLosses;
        var second = Run(Settings(AdapterKind.Lora)).Result.EpochLosses;
        var other = Run(Settings(AdapterKind.Lora), seed: 4).Result.EpochLosses;
        CollectionAssert.AreEqual(first.ToArray(), second.ToArray());
        CollectionAssert.AreNotEqual(first.ToArray(), other.ToArray());
    }

    [TestMethod]
    public void ADivergingFineTuneStopsNamingTheStepAndTheLearningRate()
    {
        var (texts, _) = Sentences(32, 2);
        var targets = texts.Select((_, i) => (float)(i * 1e3)).ToArray();
        var settings = Settings(AdapterKind.Lora, outputs: 1, rate: 1e12, FineTuningOptimizer.Sgd) with { GradientClipping = 0 };
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => Run(settings, texts: texts, targets: targets));
        StringAssert.Contains(e.Message, "at step");
        StringAssert.Contains(e.Message, "learning rate");
    }

    [TestMethod]
    public void BatchesHoldTextsOfSimilarLengthAndCoverEveryRowOnce()
    {
        var lengths = Enumerable.Range(0, 1000).Select(i => (i * 7919) % 300).ToArray();
        var batches = FineTuner.Batches(lengths, 16, new Generator(5)).ToList();
        CollectionAssert.AreEquivalent(Enumerable.Range(0, 1000).ToArray(), batches.SelectMany(b => b).ToArray());
        double spread = batches.Average(b => b.Max(i => lengths[i]) - b.Min(i => lengths[i]));
        Assert.IsLessThan(30.0, spread, "lengths within a batch are close (random batches would spread about 270)");
    }
}
