using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.Text;
using Microsoft.ML.PaperExtensions.Text.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Tests.Text;

/// <summary>
/// The encoder's own dropout (Hugging Face <c>BertModel</c>: after the embeddings' LayerNorm, on the attention weights, after
/// <c>attention.output.dense</c> and <c>output.dense</c>): read from config.json, only in training mode, seeded by the fit's generator.
/// </summary>
[TestClass]
public sealed class BertDropoutTests
{
    [ClassInitialize]
    public static void Initialise(TestContext _) => TorchRuntime.EnsureInitialized();

    private static EncoderCheckpoint Checkpoint() => HuggingFaceCheckpoint.Read(TinyBertBatch.Folder("tiny-bert"));

    /// <summary>The tiny BERT's weights in a model whose config has the given dropout probabilities.</summary>
    private static BertModel Model(double hidden, double attention)
    {
        var checkpoint = Checkpoint();
        return BertModel.FromCheckpoint(checkpoint with { Config = checkpoint.Config with { HiddenDropoutProb = hidden, AttentionProbsDropoutProb = attention } });
    }

    /// <summary>The last hidden state of every reference batch, flattened, and the reference's own float64 values (the eval forward of make_tiny_bert.py).</summary>
    private static (float[] Ours, double[] Reference) Forward(BertModel model, Generator? generator = null)
    {
        model.DropoutGenerator = generator;
        var ours = new List<float>();
        var reference = new List<double>();
        foreach (var batch in TinyBertBatch.Load())
        {
            using var scope = NewDisposeScope();
            using var grad = no_grad();
            long rows = batch.InputIds.GetLength(0), length = batch.InputIds.GetLength(1);
            var hidden = model.forward(tensor(batch.Flat(batch.InputIds), [rows, length]), tensor(batch.Flat(batch.AttentionMask), [rows, length]),
                tensor(batch.Flat(batch.TokenTypeIds), [rows, length]));
            ours.AddRange(hidden.data<float>().ToArray());
            reference.AddRange(batch.LastHiddenState.Cast<double>());
        }
        return (ours.ToArray(), reference.ToArray());
    }

    private static double MaxDifference(float[] a, double[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();

    [TestMethod]
    public void TheConfigsProbabilitiesPlaceDropoutWhereHuggingFacesBertModelHasIt()
    {
        var folder = Directory.CreateTempSubdirectory("bert-dropout").FullName;
        try
        {
            var json = File.ReadAllText(Path.Combine(TinyBertBatch.Folder("tiny-bert"), "config.json"))
                .Replace("\"hidden_dropout_prob\": 0.1", "\"hidden_dropout_prob\": 0.2").Replace("\"attention_probs_dropout_prob\": 0.1", "\"attention_probs_dropout_prob\": 0.3");
            File.WriteAllText(Path.Combine(folder, "config.json"), json);
            var config = BertConfig.Read(Path.Combine(folder, "config.json"));
            Assert.AreEqual(0.2, config.HiddenDropoutProb);
            Assert.AreEqual(0.3, config.AttentionProbsDropoutProb);
            using var model = new BertModel(config, withPooler: false);
            var rates = model.named_modules().Where(m => m.module is BertDropout).ToDictionary(m => m.name, m => ((BertDropout)m.module).Rate);
            var expected = new Dictionary<string, double> { ["embeddings.dropout"] = 0.2 };
            for (int i = 0; i < config.NumHiddenLayers; i++)
            {
                expected[$"encoder.layer.{i}.attention.self.dropout"] = 0.3;
                expected[$"encoder.layer.{i}.attention.output.dropout"] = 0.2;
                expected[$"encoder.layer.{i}.output.dropout"] = 0.2;
            }
            CollectionAssert.AreEquivalent(expected.OrderBy(e => e.Key).ToList(), rates.OrderBy(e => e.Key).ToList(), string.Join(", ", rates));

            // Missing: Hugging Face's default 0.1. Out of range: named.
            var missing = json.Replace("\"hidden_dropout_prob\": 0.2,", "").Replace("\"attention_probs_dropout_prob\": 0.3,", "");
            File.WriteAllText(Path.Combine(folder, "config.json"), missing);
            var defaults = BertConfig.Read(Path.Combine(folder, "config.json"));
            Assert.AreEqual(0.1, defaults.HiddenDropoutProb);
            Assert.AreEqual(0.1, defaults.AttentionProbsDropoutProb);
            File.WriteAllText(Path.Combine(folder, "config.json"), json.Replace("\"attention_probs_dropout_prob\": 0.3", "\"attention_probs_dropout_prob\": 1.5"));
            var e = Assert.ThrowsExactly<InvalidDataException>(() => BertConfig.Read(Path.Combine(folder, "config.json")));
            StringAssert.Contains(e.Message, "attention_probs_dropout_prob 1.5");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public void EvalModeIsBitwiseTheSameWithOrWithoutDropoutAndStillEqualsTheReference()
    {
        using var without = Model(0, 0);
        using var with = Model(0.1, 0.1);
        var (plain, reference) = Forward(without);
        var (dropped, _) = Forward(with, new Generator(5));
        CollectionAssert.AreEqual(plain, dropped, "eval mode: no dropout at all");
        Assert.IsLessThan(1e-5, MaxDifference(dropped, reference), "eval forward = make_tiny_bert.py's");

        // Training mode at zero probabilities is the eval forward too (the fused attention kernel, no masks).
        without.train();
        CollectionAssert.AreEqual(plain, Forward(without, new Generator(5)).Ours, "train mode at rate 0");
    }

    [TestMethod]
    public void TrainingModeDropsOutRepeatablyFromTheGivenGenerator()
    {
        using var model = Model(0.1, 0.1);
        var (eval, _) = Forward(model);
        model.train();
        manual_seed(100);
        var first = Forward(model, new Generator(5)).Ours;
        manual_seed(200);   // the global generator must not matter
        var second = Forward(model, new Generator(5)).Ours;
        var other = Forward(model, new Generator(6)).Ours;
        CollectionAssert.AreEqual(first, second, "same generator seed, same masks");
        double fromEval = first.Zip(eval, (a, b) => Math.Abs(a - b)).Max(), fromOther = first.Zip(other, (a, b) => Math.Abs(a - b)).Max();
        Assert.IsGreaterThan(0.1, fromEval, "train mode differs from eval");
        Assert.IsGreaterThan(0.1, fromOther, "another seed draws other masks");

        // Only the attention weights dropped: differs too (the explicit softmax path is taken and masked).
        using var attentionOnly = Model(0, 0.5);
        attentionOnly.train();
        Assert.IsGreaterThan(0.1, Forward(attentionOnly, new Generator(5)).Ours.Zip(eval, (a, b) => Math.Abs(a - b)).Max(), "attention dropout alone");
        model.eval();
        CollectionAssert.AreEqual(eval, Forward(model).Ours, "back in eval mode, no dropout");
    }

    [TestMethod]
    public void MasksZeroTheRateAndScaleTheRestByOneOverOneMinusTheRate()
    {
        using var dropout = new BertDropout(0.1) { Generator = new Generator(3) };
        dropout.train();
        using var output = dropout.forward(ones(200_000));
        var values = output.data<float>().ToArray();
        double zeros = values.Count(v => v == 0) / (double)values.Length;
        Assert.AreEqual(0.1, zeros, 4 * Math.Sqrt(0.1 * 0.9 / values.Length), "fraction zeroed");
        Assert.IsTrue(values.Where(v => v != 0).All(v => Math.Abs(v - 1 / 0.9f) < 1e-6), "kept elements scaled by 1 / (1 - p)");
        dropout.eval();
        using var input = randn(10);
        using var passed = dropout.forward(input);
        CollectionAssert.AreEqual(input.data<float>().ToArray(), passed.data<float>().ToArray(), "eval: unchanged");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BertDropout(1.0));
    }
}
