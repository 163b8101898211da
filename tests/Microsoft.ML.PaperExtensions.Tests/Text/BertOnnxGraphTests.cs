using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.Text;
using Microsoft.ML.PaperExtensions.Text.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Tests.Text;

/// <summary>The exported encoder graph (run by ONNX Runtime) equals the TorchSharp forward and the pooling formulas.</summary>
[TestClass]
public sealed class BertOnnxGraphTests
{
    [ClassInitialize]
    public static void Initialise(TestContext _) => TorchRuntime.EnsureInitialized();

    [TestMethod]
    public void HiddenStatesAndPooledVectorsEqualTheTorchSharpForwardOnPaddedBatches()
    {
        var checkpoint = HuggingFaceCheckpoint.Read(TinyBertBatch.Folder("tiny-bert"));
        using var model = BertModel.FromCheckpoint(checkpoint);
        var hiddenGraph = BertOnnxGraph.Build(checkpoint, pooling: null, normalize: false).ToBytes();
        foreach (var batch in TinyBertBatch.Load())
        {
            using var scope = NewDisposeScope();
            long rows = batch.InputIds.GetLength(0), length = batch.InputIds.GetLength(1);
            long[] ids = batch.Flat(batch.InputIds), mask = batch.Flat(batch.AttentionMask), types = batch.Flat(batch.TokenTypeIds);
            var hidden = model.forward(tensor(ids, [rows, length]), tensor(mask, [rows, length]), tensor(types, [rows, length]));
            var expected = hidden.data<float>().ToArray();
            Assert.IsLessThan(1e-5, EncoderRun.MaxAbsDifference(EncoderRun.Onnx(hiddenGraph, ids, mask, types, rows, length), expected), batch.Name);

            var maskF = tensor(mask, [rows, length]).to_type(ScalarType.Float32).unsqueeze(2);
            var mean = (hidden * maskF).sum(1) / maskF.sum(1);
            var cls = hidden[.., 0];
            foreach (var (pooling, vectors) in new[] { (EmbeddingPooling.Mean, mean), (EmbeddingPooling.Cls, cls) })
            {
                foreach (var normalize in new[] { false, true })
                {
                    var want = normalize ? vectors / vectors.norm(1, keepdim: true) : vectors;
                    var graph = BertOnnxGraph.Build(checkpoint, pooling, normalize).ToBytes();
                    var got = EncoderRun.Onnx(graph, ids, mask, types, rows, length);
                    Assert.IsLessThan(1e-5, EncoderRun.MaxAbsDifference(got, want.data<float>().ToArray()), $"{batch.Name} {pooling} normalize={normalize}");
                }
            }
        }
    }
}
