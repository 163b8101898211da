using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.PaperExtensions.Onnx;
using static Microsoft.ML.PaperExtensions.Onnx.OnnxGraphBuilder;

namespace Microsoft.ML.PaperExtensions.Tests.Onnx;

[TestClass]
public sealed class OnnxGraphBuilderTests
{
    [TestMethod]
    public void RawFloat16Int8AndUInt8InitializersReachOnnxRuntimeExactly()
    {
        var g = new OnnxGraphBuilder("types");
        var x = g.AddInput("x", OnnxElementType.Float, Batch, 3);
        Half[] halves = [(Half)0.5f, (Half)(-2.25f), (Half)1024f];
        sbyte[] signed = [-128, 0, 127];
        byte[] unsigned = [0, 1, 255];
        var h = g.AddNode("Cast", [g.AddInitializer("h", halves, 3)], null, Attribute("to", (long)OnnxElementType.Float));
        var s = g.AddNode("Cast", [g.AddInitializer("s", signed, 3)], null, Attribute("to", (long)OnnxElementType.Float));
        var u = g.AddNode("Cast", [g.AddInitializer("u", unsigned, 3)], null, Attribute("to", (long)OnnxElementType.Float));
        var w = g.AddInitializer("w", new float[] { 1e-20f, -3.5f, float.MaxValue }, 3);
        g.AddNode("Add", [g.AddNode("Add", [g.AddNode("Add", [g.AddNode("Mul", [x, w]), h]), s]), u], "y");
        g.AddOutput("y", OnnxElementType.Float, Batch, 3);

        var y = Run(g.ToBytes(), new float[] { 1, 1, 0 }, 3, "y");
        CollectionAssert.AreEqual(new[] { 1e-20f + 0.5f - 128 + 0, -3.5f - 2.25f + 0 + 1, 1024f + 127 + 255 }, y);
    }

    [TestMethod]
    public void ANodeOfTheMicrosoftDomainImportsTheDomainAndRuns()
    {
        var g = new OnnxGraphBuilder("contrib");
        var x = g.AddInput("x", OnnxElementType.Float, Batch, 4);
        g.AddNode(MicrosoftDomain, "Gelu", [x], "y");
        g.AddOutput("y", OnnxElementType.Float, Batch, 4);
        var model = g.Build();
        Assert.IsTrue(model.OpsetImport.Any(o => o.Domain == MicrosoftDomain && o.Version == 1));

        float[] input = [-2, -0.5f, 0, 1.5f];
        var y = Run(g.ToBytes(), input, 4, "y");
        for (var i = 0; i < input.Length; i++)
        {
            var expected = 0.5 * input[i] * (1 + Erf(input[i] / Math.Sqrt(2)));
            Assert.AreEqual(expected, y[i], 1e-6, $"GELU({input[i]})");
        }
    }

    [TestMethod]
    public void SaveMovesLargeTensorsToExternalDataThatOnnxRuntimeReads()
    {
        var folder = Directory.CreateTempSubdirectory("onnx-external").FullName;
        try
        {
            var g = new OnnxGraphBuilder("external");
            var x = g.AddInput("x", OnnxElementType.Float, Batch, 1000);
            var weights = Enumerable.Range(0, 1000).Select(i => (float)Math.Sin(i)).ToArray();
            g.AddNode("Mul", [x, g.AddInitializer("w", weights, 1000)], "y");
            g.AddOutput("y", OnnxElementType.Float, Batch, 1000);
            g.SetMetadata("model", "external data test");
            var path = Path.Combine(folder, "model.onnx");
            g.Save(path, alwaysExternalAbove: 1024);

            Assert.IsTrue(File.Exists(path + ".data"), "the 4,000-byte tensor went to external data");
            Assert.IsLessThan(2000, new FileInfo(path).Length, "the model file no longer holds the weights");
            using var session = new InferenceSession(path);
            Assert.AreEqual("external data test", session.ModelMetadata.CustomMetadataMap["model"]);
            var input = Enumerable.Repeat(2f, 1000).ToArray();
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(input, [1, 1000]))]);
            CollectionAssert.AreEqual(weights.Select(w => 2 * w).ToArray(), results.Single().AsTensor<float>().ToArray());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static float[] Run(byte[] model, float[] row, int width, string output)
    {
        using var session = new InferenceSession(model);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(row, [1, width]))]);
        return results.Single(r => r.Name == output).AsTensor<float>().ToArray();
    }

    // Abramowitz and Stegun 7.1.26 is too coarse for 1e-6; use the series / continued fraction through the normal tail.
    private static double Erf(double x) => x >= 0 ? 1 - 2 * NormalUpperTail(x * Math.Sqrt(2)) : -Erf(-x);

    private static double NormalUpperTail(double z) => 0.5 * Numerics.SpecialFunctions.UpperRegularizedGamma(0.5, z * z / 2);
}
