using static Microsoft.ML.PaperExtensions.Onnx.OnnxGraphBuilder;

namespace Microsoft.ML.PaperExtensions.Onnx;

/// <summary>
/// Graph pieces several models need, built from default-domain ONNX operators on a <see cref="OnnxGraphBuilder"/>:
/// constants, column slices, functions ONNX lacks (log1p, expm1) and dense layers.
/// </summary>
internal static class OnnxOps
{
    /// <summary>A double constant of shape [1] (broadcasts against anything).</summary>
    public static string Const(this OnnxGraphBuilder g, double value) => g.AddInitializer(g.NewName("c"), [value], 1);

    /// <summary>Columns [from, to) of a [N, m] value.</summary>
    public static string Columns(this OnnxGraphBuilder g, string value, long from, long to) =>
        g.AddNode("Slice", [value, g.AddInitializer(g.NewName("start"), [from], 1), g.AddInitializer(g.NewName("end"), [to], 1), g.AddInitializer(g.NewName("axes"), [1L], 1)]);

    /// <summary>A [N, 1] value reshaped to [N].</summary>
    public static string Flatten(this OnnxGraphBuilder g, string value) => g.AddNode("Reshape", [value, g.AddInitializer(g.NewName("flat"), [-1L], 1)]);

    /// <summary>A cast to float written to <paramref name="output"/> (a graph output).</summary>
    public static string CastToFloat(this OnnxGraphBuilder g, string value, string? output = null) =>
        g.AddNode("Cast", [value], output, Attribute("to", (long)OnnxElementType.Float));

    /// <summary>
    /// The 1-based index of each row's largest score, as float (what a key output holds), written to <paramref name="output"/>;
    /// 0, the missing key, for a row with a NaN score (a row that could not be scored is never the first class).
    /// </summary>
    public static string PredictedIndex(this OnnxGraphBuilder g, string scores, string output)
    {
        var argmax = g.AddNode("ArgMax", [scores], null, Attribute("axis", 1L), Attribute("keepdims", 0L));
        var index = g.CastToFloat(g.AddNode("Add", [argmax, g.AddInitializer(g.NewName("one"), [1L], 1)]));
        var nan = g.AddNode("ReduceMax", [g.CastToFloat(g.AddNode("IsNaN", [scores]))], null, Attribute("axes", [1L]), Attribute("keepdims", 0L));
        var zero = g.AddInitializer(g.NewName("zero"), [0f], 1);
        return g.AddNode("Where", [g.AddNode("Greater", [nan, zero]), zero, index], output);
    }

    /// <summary>c0 + c1 x + c2 x^2 + ... by Horner's rule.</summary>
    public static string Polynomial(this OnnxGraphBuilder g, string x, double[] c)
    {
        var value = g.Const(c[^1]);
        for (var i = c.Length - 2; i >= 0; i--) value = g.AddNode("Add", [g.AddNode("Mul", [value, x]), g.Const(c[i])]);
        return value;
    }

    /// <summary>log(1 + x) with its series below 1e-4 (ONNX has no Log1p).</summary>
    public static string Log1p(this OnnxGraphBuilder g, string x) =>
        g.AddNode("Where", [g.AddNode("Less", [g.AddNode("Abs", [x]), g.Const(1e-4)]),
            g.AddNode("Mul", [x, g.Polynomial(x, [1, -1.0 / 2, 1.0 / 3, -1.0 / 4])]),
            g.AddNode("Log", [g.AddNode("Add", [x, g.Const(1)])])]);

    /// <summary>exp(x) - 1 with its series below 1e-5 (ONNX has no Expm1).</summary>
    public static string Expm1(this OnnxGraphBuilder g, string x) =>
        g.AddNode("Where", [g.AddNode("Less", [g.AddNode("Abs", [x]), g.Const(1e-5)]),
            g.AddNode("Mul", [x, g.Polynomial(x, [1, 1.0 / 2, 1.0 / 6])]),
            g.AddNode("Sub", [g.AddNode("Exp", [x]), g.Const(1)])]);

    /// <summary>
    /// Dense float layers as Gemm nodes (weights stored [out, in] row-major, so transB = 1) with ReLU between them (none after
    /// the last). <paramref name="layers"/> gives (in, out, weight, bias) per layer.
    /// </summary>
    public static string Mlp(this OnnxGraphBuilder g, string prefix, IReadOnlyList<(int In, int Out, float[] Weight, float[] Bias)> layers, string input)
    {
        var value = input;
        for (var i = 0; i < layers.Count; i++)
        {
            var (inputs, outputs, weight, bias) = layers[i];
            value = g.AddNode("Gemm", [value, g.AddInitializer($"{prefix}_w{i}", weight, outputs, inputs), g.AddInitializer($"{prefix}_b{i}", bias, outputs)],
                null, Attribute("transB", 1L));
            if (i < layers.Count - 1) value = g.AddNode("Relu", [value]);
        }
        return value;
    }
}
