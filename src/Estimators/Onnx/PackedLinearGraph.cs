using static Microsoft.ML.PaperExtensions.Onnx.OnnxGraphBuilder;

namespace Microsoft.ML.PaperExtensions.Onnx;

/// <summary>
/// Writes a <see cref="PackedLinear"/> into an ONNX graph. Groups along the input with a power-of-two group size of 16 to 256 run
/// ONNX Runtime's <c>com.microsoft.MatMulNBits</c> (bits 2, 4 or 8; 3-bit codes in the 4-bit container), which computes
/// x dequant(B)^T from the packed bytes. Anything else (groups along the output, per-channel groups wider than 256) unpacks the
/// codes with <c>BitShift</c>, dequantizes and runs <c>MatMul</c>: ONNX Runtime folds that constant subgraph once at load, so
/// the file keeps the packed size and the product runs at float32 speed (<see cref="PackedLinear.DequantizeAtLoad"/> asks for
/// that form everywhere). Outliers are added by gather, multiply and scatter-add.
/// </summary>
internal static class PackedLinearGraph
{
    /// <summary>Whether <paramref name="q"/> runs as one MatMulNBits node.</summary>
    public static bool UsesMatMulNBits(PackedLinear q) =>
        q.Axis == GroupAxis.Input && q.GroupSize is >= 16 and <= 256 && (q.GroupSize & (q.GroupSize - 1)) == 0;

    /// <summary>x [..., in] -> x W_eff^T + bias [..., out].</summary>
    public static string Write(OnnxGraphBuilder g, string x, string name, PackedLinear q, float[]? bias)
    {
        string y;
        if (UsesMatMulNBits(q) && !q.DequantizeAtLoad)
        {
            var scaled = q.InputScale is { } inputScale ? g.AddNode("Mul", [x, g.AddInitializer(name + ".input_scale", inputScale, q.Inputs)]) : x;
            y = MatMulNBits(g, scaled, name, q);
        }
        else
        {
            y = DequantizedMatMul(g, x, name, q);
        }
        if (bias is not null) y = g.AddNode("Add", [y, g.AddInitializer(name + ".bias", bias, q.Outputs)]);
        if (q.Outliers is { Count: > 0 } s)
        {
            // y[..., row] += sum over outliers of x[..., column] * value.
            var products = g.AddNode("Mul", [g.AddNode("Gather", [x, g.AddInitializer(name + ".outlier_columns", s.Columns.Select(c => (long)c).ToArray(), s.Count)], null, Attribute("axis", -1L)),
                g.AddInitializer(name + ".outlier_values", s.Values, s.Count)]);
            var rows = g.AddNode("Expand", [g.AddInitializer(name + ".outlier_rows", s.Rows.Select(r => (long)r).ToArray(), s.Count), g.AddNode("Shape", [products])]);
            y = g.AddNode("ScatterElements", [y, rows, products], null, Attribute("axis", -1L), Attribute("reduction", "add"));
        }
        return y;
    }

    private static string MatMulNBits(OnnxGraphBuilder g, string x, string name, PackedLinear q)
    {
        var codes = g.AddInitializer(name + ".qweight", q.Codes, q.Rows, q.Blocks, q.BlockBytes);
        var scales = g.AddInitializer(name + ".scales", q.Scales, q.Rows, q.Blocks);
        var packedZeros = q.PackedZeros();
        var zeros = q.ImplicitZeros ? "" : g.AddInitializer(name + ".qzeros", packedZeros, q.Rows, packedZeros.Length / q.Rows);
        List<string> inputs = zeros.Length == 0 ? [x, codes, scales] : [x, codes, scales, zeros];
        List<global::Onnx.AttributeProto> attributes =
            [Attribute("K", (long)q.Inputs), Attribute("N", (long)q.Outputs), Attribute("bits", (long)q.ContainerBits), Attribute("block_size", (long)q.GroupSize)];
        if (q.AccuracyLevel > 0) attributes.Add(Attribute("accuracy_level", (long)q.AccuracyLevel));
        return g.AddNode(MicrosoftDomain, "MatMulNBits", inputs, null, attributes.ToArray());
    }

    private static string DequantizedMatMul(OnnxGraphBuilder g, string x, string name, PackedLinear q)
    {
        long rows = q.Rows, blocks = q.Blocks, size = q.GroupSize;
        int bits = q.ContainerBits, perByte = 8 / bits;
        string Shape(params long[] v) => g.AddInitializer(g.NewName("shape"), v, v.Length);
        var packed = g.AddInitializer(name + ".qweight", q.Codes, rows, blocks * q.BlockBytes, 1);
        // Value j of a byte sits in bits [j * bits, (j + 1) * bits): (byte << (8 - (j + 1) * bits)) >> (8 - bits) on uint8.
        string codes = packed;
        if (perByte > 1)
        {
            var parts = Enumerable.Range(0, perByte).Select(j =>
                g.AddNode("BitShift", [g.AddNode("BitShift", [packed, g.AddInitializer(g.NewName("left"), [(byte)(8 - (j + 1) * bits)], 1)], null, Attribute("direction", "LEFT")),
                    g.AddInitializer(g.NewName("right"), [(byte)(8 - bits)], 1)], null, Attribute("direction", "RIGHT"))).ToList();
            codes = g.AddNode("Concat", parts, null, Attribute("axis", -1L));
        }
        var levels = g.AddNode("Cast", [g.AddNode("Reshape", [codes, Shape(rows, blocks, size)])], null, Attribute("to", (long)OnnxElementType.Float));
        var zeros = g.AddInitializer(name + ".zeros", q.Zeros.Select(z => (float)z).ToArray(), rows, blocks, 1);
        var dequantized = g.AddNode("Mul", [g.AddNode("Sub", [levels, zeros]), g.AddInitializer(name + ".scales", q.Scales, rows, blocks, 1)]);
        var matrix = g.AddNode("Slice", [g.AddNode("Reshape", [dequantized, Shape(rows, blocks * size)]), Shape(0), Shape(q.Columns), Shape(1)]);
        // Groups along the input store W [out, in]: MatMul needs W^T. Groups along the output store W^T already.
        if (q.Axis == GroupAxis.Input) matrix = g.AddNode("Transpose", [matrix], null, Attribute("perm", [1L, 0]));
        // AWQ's input scales multiply the rows of W^T [in, out]: constant too, so folded with the rest.
        if (q.InputScale is { } inputScale) matrix = g.AddNode("Mul", [matrix, g.AddInitializer(name + ".input_scale", inputScale, q.Inputs, 1)]);
        return g.AddNode("MatMul", [x, matrix]);
    }
}
