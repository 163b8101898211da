using System.Text.Json;
using Microsoft.ML.PaperExtensions.FineTuning;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.Tests.Text;
using Microsoft.ML.PaperExtensions.Text;
using Microsoft.ML.PaperExtensions.Text.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Tests.FineTuning;

/// <summary>
/// LoRA, rsLoRA and DoRA adapters against PEFT-format files and float64 outputs written by an independent implementation
/// (Data/reference/lora/make_peft_reference.py), and the spec's section 6 properties.
/// </summary>
[TestClass]
public sealed class AdapterTests
{
    [ClassInitialize]
    public static void Initialise(TestContext _) => TorchRuntime.EnsureInitialized();

    private static string Reference(string name) => Path.Combine(AppContext.BaseDirectory, "Data", "reference", "lora", name);

    private static (BertModel Model, EncoderAdapters Adapters, PeftAdapter Adapter, EncoderCheckpoint Checkpoint) LoadAdapter(string folder)
    {
        var checkpoint = HuggingFaceCheckpoint.Read(TinyBertBatch.Folder("tiny-bert"));
        var model = BertModel.FromCheckpoint(checkpoint);
        var adapter = PeftAdapterFile.Read(folder);
        var adapters = EncoderAdapters.Attach(model, adapter.Settings);
        PeftAdapterFile.LoadInto(adapters, adapter);
        model.eval();
        return (model, adapters, adapter, checkpoint);
    }

    private static double[] Logits(BertModel model, PeftAdapter adapter, JsonElement batch)
    {
        using var scope = NewDisposeScope();
        var ids = JsonMatrix.Read(batch.GetProperty("input_ids"));
        long[] shape = ids.Shape;
        var hidden = model.forward(tensor(JsonMatrix.Longs(batch.GetProperty("input_ids")), shape), tensor(JsonMatrix.Longs(batch.GetProperty("attention_mask")), shape),
            tensor(JsonMatrix.Longs(batch.GetProperty("token_type_ids")), shape));
        var logits = nn.functional.linear(model.Pool(hidden), adapter.Tensors["classifier.weight"], adapter.Tensors["classifier.bias"]);
        return logits.to_type(ScalarType.Float64).data<double>().ToArray();
    }

    [TestMethod]
    [DataRow("peft-lora", FineTuningMethod.Lora)]
    [DataRow("peft-rslora", FineTuningMethod.RsLora)]
    [DataRow("peft-dora", FineTuningMethod.Dora)]
    public void APeftAdapterWrittenElsewhereReproducesItsLogitsMergesAndRoundTrips(string name, FineTuningMethod method)
    {
        var (model, adapters, adapter, checkpoint) = LoadAdapter(Reference(name));
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Reference(name), "outputs.json")));
        var root = document.RootElement;
        Assert.AreEqual((AdapterKind)method, adapters.Settings.Kind);
        Assert.AreEqual(root.GetProperty("scale").GetDouble(), adapters.Settings.Scale, 1e-12, "gamma");
        Assert.HasCount(4, adapters.Modules, "query and value of two layers");

        using var merged = BertModel.FromCheckpoint(adapters.Merge(checkpoint));
        using var baseModel = BertModel.FromCheckpoint(checkpoint);
        foreach (var batch in root.GetProperty("batches").EnumerateArray())
        {
            var logits = Logits(model, adapter, batch);
            Assert.IsLessThan(2e-5, JsonMatrix.MaxAbsDifference(logits, JsonMatrix.Read(batch.GetProperty("logits")).Values), "with the adapter");
            Assert.IsLessThan(2e-5, JsonMatrix.MaxAbsDifference(Logits(merged, adapter, batch), logits), "merged = unmerged");
            Assert.IsLessThan(2e-5, JsonMatrix.MaxAbsDifference(Logits(baseModel, adapter, batch), JsonMatrix.Read(batch.GetProperty("base_logits")).Values), "base");
        }
        foreach (var projection in new[] { "query", "value" })
        {
            var path = $"encoder.layer.0.attention.self.{projection}";
            var expected = JsonMatrix.Read(root.GetProperty("merged").GetProperty(path + ".weight").GetProperty("values")).Values;
            using var weight = adapters.Modules[path].MergedWeight().to_type(ScalarType.Float64);
            Assert.IsLessThan(2e-6, JsonMatrix.MaxAbsDifference(weight.data<double>().ToArray(), expected), path);
        }

        string copy = Directory.CreateTempSubdirectory().FullName;
        static EncoderTensor Copy(Tensor t) => new(t.shape, t.data<float>().ToArray());
        var classifier = new Dictionary<string, EncoderTensor> { ["classifier.weight"] = Copy(adapter.Tensors["classifier.weight"]), ["classifier.bias"] = Copy(adapter.Tensors["classifier.bias"]) };
        PeftAdapterFile.Save(copy, adapters.Snapshot(), classifier, encoderPrefix: "", baseModel: "tiny-bert");
        var (again, _, reread, _) = LoadAdapter(copy);
        var first = root.GetProperty("batches")[0];
        CollectionAssert.AreEqual(Logits(model, adapter, first), Logits(again, reread, first), "saved and read back");
    }

    [TestMethod]
    [DataRow(FineTuningMethod.Lora)]
    [DataRow(FineTuningMethod.RsLora)]
    [DataRow(FineTuningMethod.Dora)]
    [DataRow(FineTuningMethod.AlLora)]
    public void FreshAdaptersLeaveTheOutputUnchangedAndOnlyTheyTrain(FineTuningMethod method)
    {
        var kind = (AdapterKind)method;
        var checkpoint = HuggingFaceCheckpoint.Read(TinyBertBatch.Folder("tiny-bert"));
        using var plain = BertModel.FromCheckpoint(checkpoint);
        using var model = BertModel.FromCheckpoint(checkpoint);
        var adapters = EncoderAdapters.Attach(model, new AdapterSettings(kind, 4, 8, 0.1, 2, ["query", "value", "dense"]), new Generator(7));
        model.eval();
        Assert.HasCount(2 * 5, adapters.Modules, "query, value and three dense Linears per layer");
        var batch = TinyBertBatch.Load()[0];
        long[] shape = [batch.InputIds.GetLength(0), batch.InputIds.GetLength(1)];
        using var scope = NewDisposeScope();
        Tensor Run(BertModel m) => m.forward(tensor(batch.Flat(batch.InputIds), shape), tensor(batch.Flat(batch.AttentionMask), shape), tensor(batch.Flat(batch.TokenTypeIds), shape));
        CollectionAssert.AreEqual(Run(plain).data<float>().ToArray(), Run(model).data<float>().ToArray(), "B = 0: exactly the base output");

        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name[(p.name.LastIndexOf('.') + 1)..]).Distinct().Order().ToArray();
        CollectionAssert.AreEqual(kind == AdapterKind.Dora ? new[] { "lora_A", "lora_B", "lora_magnitude_vector" } : new[] { "lora_A", "lora_B" }, trainable);
        if (kind == AdapterKind.Dora)
        {
            var adapter = adapters.Modules["encoder.layer.0.attention.self.query"];
            Assert.IsLessThan(1e-6, (adapter.Magnitude! - adapter.Weight.norm(1)).abs().max().item<float>(), "m starts at W's row norms");
        }
    }

    [TestMethod]
    public void UnknownTargetsAndTooLargeRanksAreNamed()
    {
        var checkpoint = HuggingFaceCheckpoint.Read(TinyBertBatch.Folder("tiny-bert"));
        using var model = BertModel.FromCheckpoint(checkpoint);
        var e = Assert.ThrowsExactly<ArgumentException>(() => EncoderAdapters.Attach(model, new AdapterSettings(AdapterKind.Lora, 4, 8, 0, 2, ["query", "q_proj"])));
        StringAssert.Contains(e.Message, "'q_proj'");
        StringAssert.Contains(e.Message, "query, key, value, dense");
        using var other = BertModel.FromCheckpoint(checkpoint);
        var rank = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => EncoderAdapters.Attach(other, new AdapterSettings(AdapterKind.Lora, 40, 8, 0, 2, ["query"])));
        StringAssert.Contains(rank.Message, "Rank 40");
    }

    [TestMethod]
    public void AnAdapterForAnotherModelIsRefusedNamingTheTensor()
    {
        var adapter = PeftAdapterFile.Read(Reference("peft-lora"));
        var checkpoint = HuggingFaceCheckpoint.Read(TinyBertBatch.Folder("tiny-bert"));
        using var model = BertModel.FromCheckpoint(checkpoint);
        var adapters = EncoderAdapters.Attach(model, adapter.Settings with { Rank = 2 });
        var e = Assert.ThrowsExactly<InvalidDataException>(() => PeftAdapterFile.LoadInto(adapters, adapter));
        StringAssert.Contains(e.Message, "lora_A.weight' has shape [4, 32], but this model needs [2, 32]");
    }
}
