using Microsoft.ML.PaperExtensions.FineTuning;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.Tests.Text;
using Microsoft.ML.PaperExtensions.Text;
using Microsoft.ML.PaperExtensions.Text.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Tests.FineTuning;

/// <summary>ALLoRA's export as plain LoRA (spec 6 h) and DoRA's detached norm (spec 4, 6).</summary>
[TestClass]
public sealed class AdapterExportTests
{
    [ClassInitialize]
    public static void Initialise(TestContext _) => TorchRuntime.EnsureInitialized();

    [TestMethod]
    public void AnAlLoraAdapterExportedAsLoraWithAlphaEqualToRankGivesTheSameOutputs()
    {
        var checkpoint = HuggingFaceCheckpoint.Read(TinyBertBatch.Folder("tiny-bert"));
        using var trained = BertModel.FromCheckpoint(checkpoint);
        var adapters = EncoderAdapters.Attach(trained, new AdapterSettings(AdapterKind.AlLora, 4, 8, 0, 2, ["query", "value"]), new Generator(3));
        using (no_grad())
            foreach (var module in adapters.Modules.Values) module.B.normal_(0, 0.2, new Generator(4));
        trained.eval();

        string folder = Directory.CreateTempSubdirectory().FullName;
        PeftAdapterFile.Save(folder, adapters.Snapshot(), new Dictionary<string, EncoderTensor>(), "", "tiny-bert");
        var adapter = PeftAdapterFile.Read(folder);
        Assert.AreEqual(AdapterKind.Lora, adapter.Settings.Kind);
        Assert.AreEqual(1.0, adapter.Settings.Scale, "lora_alpha = r");
        Assert.AreEqual(0.0, adapter.Settings.Dropout);
        using var reloaded = BertModel.FromCheckpoint(checkpoint);
        PeftAdapterFile.LoadInto(EncoderAdapters.Attach(reloaded, adapter.Settings), adapter);
        reloaded.eval();

        var batch = TinyBertBatch.Load()[1];
        long[] shape = [batch.InputIds.GetLength(0), batch.InputIds.GetLength(1)];
        using var scope = NewDisposeScope();
        Tensor Run(BertModel m) => m.forward(tensor(batch.Flat(batch.InputIds), shape), tensor(batch.Flat(batch.AttentionMask), shape), tensor(batch.Flat(batch.TokenTypeIds), shape));
        var expected = Run(trained);
        using var plain = BertModel.FromCheckpoint(checkpoint);
        Assert.IsGreaterThan(1e-3, (expected - Run(plain)).abs().max().item<float>(), "the adapter changes the output");
        Assert.IsLessThan(1e-5, (expected - Run(reloaded)).abs().max().item<float>(), "float32 rounding: ALLoRA sums two branches");
    }

    [TestMethod]
    public void DorasNormIsAConstantInBackward()
    {
        var random = new Generator(8);
        var w = randn([5, 6], ScalarType.Float64, generator: random);
        var layer = new LoraLinear(w, null, new AdapterSettings(AdapterKind.Dora, 2, 4, 0, 2, ["query"]));   // gamma = 2
        using (no_grad())
        {
            layer.B.copy_(randn([5, 2], ScalarType.Float64, generator: random));
            layer.Magnitude!.mul_(1.3);
        }
        layer.eval();
        var x = randn([7, 6], ScalarType.Float64, generator: random);
        var g = randn([7, 5], ScalarType.Float64, generator: random);
        (layer.forward(x) * g).sum().backward();

        // With n constant: y = (m / n) (.) (x W^T + gamma x A^T B^T), so dL/dB = gamma diag(m / n) G^T X A^T and dL/dm = rowsum(G (.) (x W^T + gamma x A^T B^T)) / n.
        using var grad = no_grad();
        double gamma = 2;
        var n = (w + gamma * layer.B.matmul(layer.A)).norm(1);
        var ratio = layer.Magnitude! / n;
        var inner = x.matmul(w.t()) + gamma * x.matmul(layer.A.t()).matmul(layer.B.t());
        var gradB = gamma * (ratio.unsqueeze(1) * g.t().matmul(x).matmul(layer.A.t()));
        var gradM = (g * inner).sum(dim: 0) / n;   // a literal 0 would bind to sum(ScalarType)
        Assert.IsLessThan(1e-12, (layer.forward(x) - ratio * inner).abs().max().item<double>(), "forward");
        Assert.IsLessThan(1e-12, (layer.B.grad! - gradB).abs().max().item<double>(), "grad_B treats n as a constant");
        Assert.IsLessThan(1e-12, (layer.Magnitude!.grad! - gradM).abs().max().item<double>(), "grad_m");
    }
}
