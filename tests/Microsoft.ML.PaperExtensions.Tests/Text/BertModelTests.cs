using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.Text;
using Microsoft.ML.PaperExtensions.Text.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Tests.Text;

/// <summary>The TorchSharp BERT equals an independent float64 forward (make_tiny_bert.py) on stored weights and ids.</summary>
[TestClass]
public sealed class BertModelTests
{
    [ClassInitialize]
    public static void Initialise(TestContext _) => TorchRuntime.EnsureInitialized();

    [TestMethod]
    [DataRow("tiny-bert")]
    [DataRow("tiny-bert-legacy")]
    public void ForwardOfAHuggingFaceFolderEqualsTheReferenceForwardOnEveryBatch(string folder)
    {
        var checkpoint = HuggingFaceCheckpoint.Read(TinyBertBatch.Folder(folder));
        Assert.AreEqual(2, checkpoint.Config.NumHiddenLayers);
        Assert.IsTrue(checkpoint.HasPooler);
        using var model = BertModel.FromCheckpoint(checkpoint);
        foreach (var batch in TinyBertBatch.Load())
        {
            using var scope = NewDisposeScope();
            long rows = batch.InputIds.GetLength(0), length = batch.InputIds.GetLength(1);
            var hidden = model.forward(tensor(batch.Flat(batch.InputIds), [rows, length]), tensor(batch.Flat(batch.AttentionMask), [rows, length]),
                tensor(batch.Flat(batch.TokenTypeIds), [rows, length]));
            var pooled = model.Pool(hidden);
            var h = hidden.to_type(ScalarType.Float64).data<double>().ToArray();
            var p = pooled.to_type(ScalarType.Float64).data<double>().ToArray();
            double worst = 0, worstPooled = 0;
            int hiddenSize = batch.LastHiddenState.GetLength(2);
            for (int i = 0; i < rows; i++)
                for (int t = 0; t < length; t++)
                    for (int k = 0; k < hiddenSize; k++)
                        worst = Math.Max(worst, Math.Abs(h[(i * length + t) * hiddenSize + k] - batch.LastHiddenState[i, t, k]));
            for (int i = 0; i < rows; i++)
                for (int k = 0; k < hiddenSize; k++)
                    worstPooled = Math.Max(worstPooled, Math.Abs(p[i * hiddenSize + k] - batch.PoolerOutput[i, k]));
            Assert.IsLessThan(1e-5, worst, $"{batch.Name}: last_hidden_state");
            Assert.IsLessThan(1e-5, worstPooled, $"{batch.Name}: pooler_output");
        }
    }

    [TestMethod]
    public void StateDictNamesAreHuggingFaces()
    {
        var checkpoint = HuggingFaceCheckpoint.Read(TinyBertBatch.Folder("tiny-bert"));
        using var model = new BertModel(checkpoint.Config, withPooler: true);
        var names = model.named_parameters().Select(p => p.name).OrderBy(n => n, StringComparer.Ordinal).ToArray();
        var expected = EncoderCheckpoint.ExpectedShapes(checkpoint.Config).Select(e => e.Name).Append("pooler.dense.weight").Append("pooler.dense.bias")
            .OrderBy(n => n, StringComparer.Ordinal).ToArray();
        CollectionAssert.AreEqual(expected, names);
    }
}
