using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.PaperExtensions.Onnx;
using Microsoft.ML.PaperExtensions.Quantization;
using Microsoft.ML.PaperExtensions.Runtime;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Tests.Quantization;

/// <summary>The packed layout and its ONNX graph: ONNX Runtime's MatMulNBits (and the dequantize path) compute x W_eff^T + b of the codes.</summary>
[TestClass]
public sealed class PackedLinearTests
{
    [ClassInitialize]
    public static void Initialise(TestContext _) => TorchRuntime.EnsureInitialized();

    [TestMethod]
    public void PackingRoundTripsEveryCodeForEveryBitWidthAndOddRowLengths()
    {
        var random = new Random(3);
        foreach (int bits in new[] { 2, 4, 8 })
            foreach (int columns in new[] { 1, 3, 7, 16, 33 })
            {
                var values = Enumerable.Range(0, 5 * columns).Select(_ => (byte)random.Next(1 << bits)).ToArray();
                var packed = PackedLinear.Pack(values, 5, columns, bits);
                Assert.AreEqual(5 * ((columns * bits + 7) / 8), packed.Length, $"bits {bits}, {columns} columns: each row starts a new byte");
                CollectionAssert.AreEqual(values, PackedLinear.Unpack(packed, 5, columns, bits), $"bits {bits}, {columns} columns");
            }
        // MatMulNBits' 4-bit layout: the even index in the low nibble.
        CollectionAssert.AreEqual(new byte[] { 0x21, 0x03 }, PackedLinear.Pack([1, 2, 3], 1, 3, 4));
    }

    [TestMethod]
    [DataRow(4, 128, 40, false, false, DisplayName = "MatMulNBits, K a multiple of the block")]
    [DataRow(4, 64, 200, false, false, DisplayName = "K not a multiple: the last block padded")]
    [DataRow(3, 32, 96, false, false, DisplayName = "3-bit codes in the 4-bit container")]
    [DataRow(2, 16, 48, false, false, DisplayName = "2-bit")]
    [DataRow(8, 32, 64, false, false, DisplayName = "8-bit")]
    [DataRow(4, 32, 64, true, false, DisplayName = "symmetric: implicit zero points")]
    [DataRow(4, 128, 32, false, false, DisplayName = "one block wider than K")]
    [DataRow(4, 0, 300, false, false, DisplayName = "per channel: 512-wide groups, the dequantize path")]
    [DataRow(4, 32, 72, false, true, DisplayName = "AdaDim's groups along the output, the dequantize path")]
    [DataRow(3, 16, 40, true, true, DisplayName = "3-bit symmetric along the output")]
    public void OnnxRuntimeComputesTheDequantizedProduct(int bits, int group, int inputs, bool symmetric, bool alongOutput)
    {
        var axis = alongOutput ? GroupAxis.Output : GroupAxis.Input;
        using var scope = NewDisposeScope();
        const int outputs = 24, rows = 5;
        var random = new Random(11);
        var w = Gaussian(random, outputs, inputs);
        var settings = new QuantizerSettings(bits, group, symmetric);
        using var codes = settings.Quantize(axis == GroupAxis.Input ? w : w.t().contiguous());
        var inputScale = axis == GroupAxis.Input ? Enumerable.Range(0, inputs).Select(_ => 0.5f + (float)random.NextDouble()).ToArray() : null;
        var outliers = new SparseOutliers([0, 3, 3, 23], [1, 0, 5, inputs - 1], [7.5f, -3.25f, 0.125f, 100f]);
        var packed = LayerQuantizer.Pack(codes, outputs, inputs, bits, axis, inputScale, outliers);
        Assert.AreEqual(PackedLinearGraph.UsesMatMulNBits(packed), axis == GroupAxis.Input && group > 0, "which node runs it");
        if (symmetric && bits != 3) Assert.IsTrue(packed.ImplicitZeros, "symmetric codes need no zero points");

        var bias = Enumerable.Range(0, outputs).Select(i => 0.1f * i).ToArray();
        var x = Gaussian(random, rows, inputs).data<float>().ToArray();
        var actual = Run(packed, bias, x, rows);
        var effective = packed.EffectiveWeight();
        // The effective weight is (q - zero) * scale of the codes, independent of the graph: check it against the quantizer's own dequantization.
        using var dequantized = codes.Dequantize();
        var reference = (axis == GroupAxis.Input ? dequantized : dequantized.t()).contiguous().data<float>().ToArray();
        for (int o = 0; o < outputs; o++)
            for (int i = 0; i < inputs; i++)
            {
                if (outliers.Rows.Zip(outliers.Columns).Contains((o, i))) continue;
                double expectedWeight = reference[o * inputs + i] * (inputScale?[i] ?? 1f);
                Assert.AreEqual(expectedWeight, effective[o * inputs + i], 1e-6 * Math.Max(1, Math.Abs(expectedWeight)), $"W_eff[{o}, {i}]");
            }
        double worst = 0;
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outputs; o++)
            {
                double expected = bias[o];
                for (int i = 0; i < inputs; i++) expected += (double)x[r * inputs + i] * effective[o * inputs + i];
                worst = Math.Max(worst, Math.Abs(expected - actual[r * outputs + o]) / Math.Max(1, Math.Abs(expected)));
            }
        Assert.IsLessThan(1e-4, worst, $"ONNX Runtime vs x W_eff^T + b: {worst}; first {actual[0]}");

        // The same codes expanded at load (unpack + MatMul, AWQ's scales folded into the weight) compute the same product.
        var expanded = Run(packed with { DequantizeAtLoad = true }, bias, x, rows);
        for (int k = 0; k < actual.Length; k++) Assert.AreEqual(actual[k], expanded[k], 1e-4 * Math.Max(1, Math.Abs(actual[k])), $"dequantized at load, value {k}");
    }

    [TestMethod]
    public void AllowedSettingsRunInOnnxRuntimeOnThreeDimensionalInputs()
    {
        using var scope = NewDisposeScope();
        var w = Gaussian(new Random(5), 8, 64);
        using var codes = new QuantizerSettings(4, 32, false).Quantize(w);
        var packed = LayerQuantizer.Pack(codes, 8, 64, 4, GroupAxis.Input, null, new SparseOutliers([1], [2], [9f]));
        var g = new OnnxGraphBuilder("q");
        var x = g.AddInput("x", OnnxElementType.Float, 2, 3, 64);
        g.AddNode("Identity", [PackedLinearGraph.Write(g, x, "layer", packed, null)], "y");
        g.AddOutput("y", OnnxElementType.Float, 2, 3, 8);
        using var session = new InferenceSession(g.ToBytes());
        var input = Enumerable.Range(0, 2 * 3 * 64).Select(i => (float)Math.Sin(i)).ToArray();
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(input, [2, 3, 64]))]);
        var y = results.First().AsEnumerable<float>().ToArray();
        var effective = packed.EffectiveWeight();
        for (int t = 0; t < 6; t++)
            for (int o = 0; o < 8; o++)
            {
                double expected = 0;
                for (int i = 0; i < 64; i++) expected += (double)input[t * 64 + i] * effective[o * 64 + i];
                Assert.AreEqual(expected, y[t * 8 + o], 1e-4 * Math.Max(1, Math.Abs(expected)));
            }
    }

    /// <summary>Standard normal values (Box-Muller on <paramref name="random"/>), so a test sees the same numbers on every run.</summary>
    internal static TorchSharp.torch.Tensor Gaussian(Random random, long rows, long columns) =>
        tensor(Enumerable.Range(0, (int)(rows * columns)).Select(_ => (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()))).ToArray(), [rows, columns]);

    internal static float[] Run(PackedLinear packed, float[] bias, float[] x, int rows)
    {
        var g = new OnnxGraphBuilder("q");
        var input = g.AddInput("x", OnnxElementType.Float, rows, packed.Inputs);
        g.AddNode("Identity", [PackedLinearGraph.Write(g, input, "layer", packed, bias)], "y");
        g.AddOutput("y", OnnxElementType.Float, rows, packed.Outputs);
        using var session = new InferenceSession(g.ToBytes());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, [rows, packed.Inputs]))]);
        return results.First().AsEnumerable<float>().ToArray();
    }
}
