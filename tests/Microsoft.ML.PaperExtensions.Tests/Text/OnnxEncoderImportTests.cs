using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.ML.PaperExtensions.Onnx;
using Microsoft.ML.PaperExtensions.TestSupport;
using Microsoft.ML.PaperExtensions.Text;
using Onnx;

namespace Microsoft.ML.PaperExtensions.Tests.Text;

[TestClass]
public sealed class OnnxEncoderImportTests
{
    private static readonly string TextData = Path.Combine(AppContext.BaseDirectory, "Data", "reference", "text");

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void MiniLmMapsEveryTensorToItsHuggingFaceName()
    {
        string path = Path.Combine(PretrainedModels.MiniLmFolder, "model.onnx");
        var checkpoint = TimedRead(path);

        Assert.AreEqual(MiniLmSizes, checkpoint.Config);
        Assert.IsTrue(checkpoint.HasPooler);
        Assert.AreEqual(101 + 2, checkpoint.Tensors.Count);
        AssertNamedInitializersKept(path, checkpoint);
        AssertFingerprints("minilm-weight-fingerprints.json", checkpoint, expectedCount: 6 * 6 + 1);
    }

    [TestMethod]
    public void ArcticEmbedXsOpset11MapsEveryTensorToItsHuggingFaceName()
    {
        string path = Path.Combine(PretrainedModels.ArcticXsFolder, "model.onnx");
        var checkpoint = TimedRead(path);

        Assert.AreEqual(MiniLmSizes, checkpoint.Config, "arctic-embed-xs has MiniLM's sizes");
        Assert.IsFalse(checkpoint.HasPooler);
        Assert.AreEqual(101, checkpoint.Tensors.Count);
        AssertNamedInitializersKept(path, checkpoint);
        AssertFingerprints("arcticxs-weight-fingerprints.json", checkpoint, expectedCount: 6 * 6);
    }

    [TestMethod]
    public void TinyBertExportEqualsItsSafetensorsExactly()
    {
        var checkpoint = OnnxEncoderImport.Read(Path.Combine(TextData, "tiny-bert-onnx", "model.onnx"));
        AssertEqualsTinyBert(checkpoint);
    }

    [TestMethod]
    public void InitializerNamesAndOrderDoNotMatter()
    {
        // Every initializer renamed w0, w1, ... and listed in reverse: the mapping follows the dataflow alone.
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(TextData, "tiny-bert-onnx", "model.onnx")));
        var renamed = new Dictionary<string, string>();
        var initializers = model.Graph.Initializer.Reverse().ToList();
        model.Graph.Initializer.Clear();
        foreach (var initializer in initializers)
        {
            renamed[initializer.Name] = "w" + renamed.Count;
            initializer.Name = renamed[initializer.Name];
            model.Graph.Initializer.Add(initializer);
        }
        foreach (var node in model.Graph.Node)
        {
            for (int i = 0; i < node.Input.Count; i++)
                node.Input[i] = renamed.GetValueOrDefault(node.Input[i], node.Input[i]);
        }
        foreach (var input in model.Graph.Input) input.Name = renamed.GetValueOrDefault(input.Name, input.Name);

        string path = TempFile(model.ToByteArray());
        try
        {
            AssertEqualsTinyBert(OnnxEncoderImport.Read(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void FusedLayerNormalizationAndTransposedWeightsMapToo()
    {
        // The tiny export rewritten as other exporters write it: each decomposed LayerNorm as one LayerNormalization node
        // (opset 17), and each Linear weight stored [out, in] behind a Transpose node.
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(TextData, "tiny-bert-onnx", "model.onnx")));
        var graph = model.Graph;
        var producers = graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        var initializers = graph.Initializer.ToDictionary(i => i.Name);
        NodeProto Consumer(string tensor) => graph.Node.Single(n => n.Input.Contains(tensor));
        string Other(NodeProto node, string input) => node.Input.Single(i => i != input);

        int fused = 0;
        foreach (var div in graph.Node.Where(n => n.OpType == "Div" && producers.GetValueOrDefault(n.Input[1])?.OpType == "Sqrt").ToList())
        {
            var sub = producers[div.Input[0]];
            var sqrt = producers[div.Input[1]];
            var addEps = producers[sqrt.Input[0]];
            var variance = producers[addEps.Input[0]];
            var pow = producers[variance.Input[0]];
            var mean = producers[sub.Input[1]];
            var mul = Consumer(div.Output[0]);
            var add = Consumer(mul.Output[0]);
            float eps = FloatValue(Other(addEps, variance.Output[0]));
            int at = graph.Node.IndexOf(mean);
            foreach (var node in new[] { mean, sub, pow, variance, addEps, sqrt, div, mul, add }) graph.Node.Remove(node);
            graph.Node.Insert(at, new NodeProto
            {
                Name = "FusedLayerNorm" + fused++,
                OpType = "LayerNormalization",
                Input = { sub.Input[0], Other(mul, div.Output[0]), Other(add, mul.Output[0]) },
                Output = { add.Output[0] },
                Attribute = { OnnxGraphBuilder.Attribute("epsilon", eps), OnnxGraphBuilder.Attribute("axis", -1L) },
            });
        }
        Assert.AreEqual(5, fused);
        model.OpsetImport.Single(o => o.Domain == "").Version = 17;

        int transposed = 0;
        foreach (var matMul in graph.Node.Where(n => n.OpType == "MatMul" && initializers.ContainsKey(n.Input[1])).ToList())
        {
            var weight = initializers[matMul.Input[1]];
            int rows = (int)weight.Dims[0], columns = (int)weight.Dims[1];
            float[] values = MemoryMarshal.Cast<byte, float>(weight.RawData.Span).ToArray();
            var stored = new float[values.Length];
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < columns; c++) stored[c * rows + r] = values[r * columns + c];
            weight.Dims.Clear();
            weight.Dims.Add([columns, rows]);
            weight.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(stored.AsSpan()));
            string output = weight.Name + "_transposed";
            graph.Node.Insert(graph.Node.IndexOf(matMul), new NodeProto
            {
                OpType = "Transpose", Input = { weight.Name }, Output = { output }, Attribute = { OnnxGraphBuilder.Attribute("perm", 1L, 0L) },
            });
            matMul.Input[1] = output;
            transposed++;
        }
        Assert.AreEqual(2 * 6 + 1, transposed, "two layers of six Linears, and the pooler");

        string path = TempFile(model.ToByteArray());
        try
        {
            AssertEqualsTinyBert(OnnxEncoderImport.Read(path));
        }
        finally
        {
            File.Delete(path);
        }

        float FloatValue(string tensor) => initializers.TryGetValue(tensor, out var initializer)
            ? MemoryMarshal.Cast<byte, float>(initializer.RawData.Span)[0]
            : producers[tensor].Attribute.Single(a => a.Name == "value").T is var t && t.RawData.Length > 0
                ? MemoryMarshal.Cast<byte, float>(t.RawData.Span)[0] : t.FloatData[0];
    }

    [TestMethod]
    public void AGraphWithoutLayerNormsIsNoBert()
    {
        var g = new OnnxGraphBuilder("linear");
        var x = g.AddInput("x", OnnxElementType.Float, OnnxGraphBuilder.Batch, 4);
        g.AddNode("MatMul", [x, g.AddInitializer("w", new float[8], 4, 2)], "y");
        g.AddOutput("y", OnnxElementType.Float, OnnxGraphBuilder.Batch, 2);
        string path = TempFile(g.ToBytes());
        try
        {
            var error = Assert.Throws<InvalidDataException>(() => OnnxEncoderImport.Read(path));
            StringAssert.Contains(error.Message, path);
            StringAssert.Contains(error.Message, "LayerNorm");
            TestContext.WriteLine(error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void ATruncatedOrCorruptFileIsReportedWithItsPath()
    {
        byte[] model = File.ReadAllBytes(Path.Combine(TextData, "tiny-bert-onnx", "model.onnx"));
        byte[] garbage = new byte[4096];
        new Random(7).NextBytes(garbage);
        foreach (var bytes in new[] { model[..(model.Length / 2)], model[..100], garbage, Array.Empty<byte>() })
        {
            string path = TempFile(bytes);
            try
            {
                var error = Assert.Throws<InvalidDataException>(() => OnnxEncoderImport.Read(path), $"{bytes.Length} bytes");
                StringAssert.Contains(error.Message, path);
                TestContext.WriteLine(error.Message);
            }
            finally
            {
                File.Delete(path);
            }
        }
    }

    [TestMethod]
    public void ALinearThatFitsNoBertRoleIsNamedInTheError()
    {
        // The tiny export with one extra MatMul on the output of the first layer's intermediate activation.
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(TextData, "tiny-bert-onnx", "model.onnx")));
        var erf = model.Graph.Node.First(n => n.OpType == "Erf");
        var stray = new TensorProto { Name = "stray", DataType = (int)OnnxElementType.Float, Dims = { 64, 3 }, FloatData = { new float[64 * 3] } };
        model.Graph.Initializer.Add(stray);
        model.Graph.Node.Add(new NodeProto { Name = "StrayMatMul", OpType = "MatMul", Input = { erf.Output[0], "stray" }, Output = { "stray_out" } });
        string path = TempFile(model.ToByteArray());
        try
        {
            var error = Assert.Throws<InvalidDataException>(() => OnnxEncoderImport.Read(path));
            StringAssert.Contains(error.Message, path);
            StringAssert.Contains(error.Message, "StrayMatMul");
            StringAssert.Contains(error.Message, "[3, 64]");
            TestContext.WriteLine(error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static readonly BertConfig MiniLmSizes = new()
    {
        VocabSize = 30522,
        HiddenSize = 384,
        NumHiddenLayers = 6,
        NumAttentionHeads = 12,
        IntermediateSize = 1536,
        MaxPositionEmbeddings = 512,
        TypeVocabSize = 2,
        LayerNormEps = 1e-12,
    };

    private EncoderCheckpoint TimedRead(string path)
    {
        var watch = Stopwatch.StartNew();
        var checkpoint = OnnxEncoderImport.Read(path);
        var first = watch.Elapsed;
        watch.Restart();
        OnnxEncoderImport.Read(path);
        TestContext.WriteLine($"{path}: read in {first.TotalMilliseconds:F0} ms, again in {watch.Elapsed.TotalMilliseconds:F0} ms");
        Assert.IsTrue(watch.Elapsed < TimeSpan.FromSeconds(5), $"reading {path} took {watch.Elapsed}");
        return checkpoint;
    }

    private static void AssertEqualsTinyBert(EncoderCheckpoint checkpoint)
    {
        Assert.AreEqual(BertConfig.Read(Path.Combine(TextData, "tiny-bert", "config.json")), checkpoint.Config);
        var expected = ReadSafetensors(Path.Combine(TextData, "tiny-bert", "model.safetensors"));
        CollectionAssert.AreEquivalent(expected.Keys.ToList(), checkpoint.Tensors.Keys.ToList());
        foreach (var (name, tensor) in expected)
        {
            var actual = checkpoint.Tensors[name];
            CollectionAssert.AreEqual(tensor.Shape, actual.Shape, name);
            CollectionAssert.AreEqual(tensor.Values, actual.Values, name);
        }
    }

    // Every float initializer the exporter kept a name for (all but the Linear weights) is the checkpoint entry of that name.
    private static void AssertNamedInitializersKept(string path, EncoderCheckpoint checkpoint)
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        int named = 0;
        foreach (var initializer in model.Graph.Initializer.Where(i => i.DataType == (int)OnnxElementType.Float))
        {
            if (initializer.Name.StartsWith("onnx::", StringComparison.Ordinal) || initializer.Name.All(char.IsAsciiDigit)) continue;
            Assert.IsTrue(checkpoint.Tensors.TryGetValue(initializer.Name, out var tensor), initializer.Name);
            CollectionAssert.AreEqual(initializer.Dims.ToArray(), tensor.Shape, initializer.Name);
            float[] values = initializer.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(initializer.RawData.Span).ToArray() : initializer.FloatData.ToArray();
            CollectionAssert.AreEqual(values, tensor.Values, initializer.Name);
            named++;
        }
        Assert.IsTrue(named >= 65, $"{named} named float initializers");
    }

    // Sum, sum of magnitudes and corner elements of each Linear weight, [out, in], from the prototype mapping (Data/reference/text/fingerprints.py).
    private static void AssertFingerprints(string file, EncoderCheckpoint checkpoint, int expectedCount)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(TextData, file)));
        int count = 0;
        foreach (var entry in document.RootElement.EnumerateObject())
        {
            var print = entry.Value;
            var tensor = checkpoint.Tensors[entry.Name];
            CollectionAssert.AreEqual(print.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray(), tensor.Shape, entry.Name);
            Assert.AreEqual((float)print.GetProperty("first").GetDouble(), tensor.Values[0], entry.Name);
            Assert.AreEqual((float)print.GetProperty("last").GetDouble(), tensor.Values[^1], entry.Name);
            double sum = 0, absSum = 0;
            foreach (float v in tensor.Values)
            {
                sum += v;
                absSum += Math.Abs(v);
            }
            double tolerance = 1e-9 * absSum;
            Assert.AreEqual(print.GetProperty("sum").GetDouble(), sum, tolerance, entry.Name);
            Assert.AreEqual(print.GetProperty("abs_sum").GetDouble(), absSum, tolerance, entry.Name);
            count++;
        }
        Assert.AreEqual(expectedCount, count);
    }

    // Hugging Face safetensors, F32 only: 8-byte little-endian header length, JSON header, raw little-endian data.
    private static Dictionary<string, (long[] Shape, float[] Values)> ReadSafetensors(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int headerLength = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        using var header = JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        var tensors = new Dictionary<string, (long[], float[])>();
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            Assert.AreEqual("F32", entry.Value.GetProperty("dtype").GetString(), entry.Name);
            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            var data = bytes.AsSpan(8 + headerLength + offsets[0], offsets[1] - offsets[0]);
            tensors[entry.Name] = (shape, MemoryMarshal.Cast<byte, float>(data).ToArray());
        }
        return tensors;
    }

    private static string TempFile(byte[] bytes)
    {
        string path = Path.Combine(Path.GetTempPath(), $"onnx-encoder-import-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
