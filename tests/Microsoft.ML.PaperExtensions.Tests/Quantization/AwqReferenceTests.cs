using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.ML.PaperExtensions.Quantization;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.TestSupport;
using Microsoft.ML.PaperExtensions.Text;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Tests.Quantization;

/// <summary>
/// RTN and AWQ on a real layer (all-MiniLM-L6-v2, encoder.layer.0.intermediate.dense, 256 calibration tokens) against the
/// independent NumPy implementation in Data/reference/quantization/quant_reference.py, at 4 and 3 bits, group 128.
/// </summary>
[TestClass]
public sealed class AwqReferenceTests
{
    private const string Layer = "encoder.layer.0.intermediate.dense";

    [ClassInitialize]
    public static void Initialise(TestContext _) => TorchRuntime.EnsureInitialized();

    private static string Folder => Path.Combine(AppContext.BaseDirectory, "Data", "reference", "quantization");

    private static (Tensor W, Tensor X) LayerAndInputs()
    {
        var encoder = PretrainedEncoder.Load(PretrainedModels.MiniLmFolder);
        var weight = encoder.Checkpoint.Tensors[Layer + ".weight"];
        var bytes = File.ReadAllBytes(Path.Combine(Folder, "layer0-intermediate-input-256.bin"));
        var x = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, x, 0, bytes.Length);
        return (tensor(weight.Values, weight.Shape), tensor(x, [256, 384]));
    }

    private static string Sha256(Tensor codes) => Convert.ToHexStringLower(SHA256.HashData(codes.to_type(ScalarType.Byte).contiguous().data<byte>().ToArray()));

    [TestMethod]
    [DataRow(4)]
    [DataRow(3)]
    public void RtnAndAwqReproduceTheNumPyReferenceOnAMiniLmLayer(int bits)
    {
        using var scope = NewDisposeScope();
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "awq-layer0-intermediate.json")));
        var expected = document.RootElement.GetProperty("calibration256").GetProperty("results").GetProperty(bits.ToString());
        var (w, x) = LayerAndInputs();
        var weightBytes = w.contiguous().data<float>().ToArray().SelectMany(BitConverter.GetBytes).ToArray();
        Assert.AreEqual(document.RootElement.GetProperty("settings").GetProperty("weight_sha256_f32le").GetString(), Convert.ToHexStringLower(SHA256.HashData(weightBytes)),
            "the MiniLM weight read from the NuGet package's ONNX file is the reference's safetensors weight");
        using var inputs = new LinearInputs(384, 256);
        inputs.Add(x, heldOut: false);
        var settings = new QuantizerSettings(bits, 128, Symmetric: false);

        // RTN: the codes and zero points are bit-identical.
        using var rtn = settings.Quantize(w);
        var rtnExpected = expected.GetProperty("rtn_all");
        Assert.AreEqual(rtnExpected.GetProperty("codes_sha256").GetString(), Sha256(rtn.Codes), "RTN codes");
        Assert.AreEqual(rtnExpected.GetProperty("zeros_sha256").GetString(), Sha256(rtn.Zeros), "RTN zero points");
        var relative = expected.GetProperty("relative_output_error");
        Assert.AreEqual(relative.GetProperty("rtn").GetDouble(), LayerQuantizer.RelativeError(rtn.Dequantize(), w, inputs), 1e-9, "RTN relative output error");

        // AWQ's scale search: the same alpha, the same loss at every alpha, the same scales.
        var (alphaIndex, s, losses) = AwqSearch.SearchScale(w, inputs, settings, CancellationToken.None);
        Assert.AreEqual(expected.GetProperty("alpha_index").GetInt32(), alphaIndex, $"alpha; losses {string.Join(", ", losses)}");
        var expectedLosses = expected.GetProperty("scale_search_mse_per_alpha").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (int i = 0; i < AwqSearch.AlphaSteps; i++) Assert.AreEqual(expectedLosses[i], losses[i], 1e-9 * expectedLosses[i], $"loss at alpha {i}/20");
        var expectedScale = expected.GetProperty("s_all").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var scale = s.data<float>().ToArray();
        for (int i = 0; i < scale.Length; i++) Assert.AreEqual(expectedScale[i], scale[i], 2e-7f * expectedScale[i], $"s[{i}]");

        // The clip search from the reference's exact s: the same shrink choices and bit-identical codes.
        var stored = tensor(expectedScale);
        var (clipped, shrink) = AwqSearch.SearchClip(w * stored, inputs.ClipRows() / stored.to_type(ScalarType.Float64), settings, CancellationToken.None);
        var histogram = Enumerable.Range(0, AwqSearch.ClipSteps).Select(i => shrink.eq(i).sum().item<long>()).ToArray();
        CollectionAssert.AreEqual(expected.GetProperty("clip_shrink_index_histogram").EnumerateArray().Select(e => e.GetInt64()).ToArray(), histogram, "clip shrink histogram");
        using var awq = settings.Quantize(clipped);
        var awqExpected = expected.GetProperty("awq_clip_all");
        Assert.AreEqual(awqExpected.GetProperty("codes_sha256").GetString(), Sha256(awq.Codes), "AWQ codes");
        Assert.AreEqual(awqExpected.GetProperty("zeros_sha256").GetString(), Sha256(awq.Zeros), "AWQ zero points");
        Assert.AreEqual(relative.GetProperty("awq_scale_clip").GetDouble(), LayerQuantizer.RelativeError(awq.Dequantize() / stored, w, inputs), 1e-9, "AWQ relative output error");
    }
}
