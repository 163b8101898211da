using System.Text.Json;
using Microsoft.ML.PaperExtensions.FineTuning;
using Microsoft.ML.PaperExtensions.Runtime;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Tests.FineTuning;

/// <summary>
/// ALLoRA's forward and gradients in float64 against the analytic formulas of spec 5.1 (Data/reference/lora/allora-gradients.json,
/// written by allora_reference.py), and LoRA's gradients against finite differences.
/// </summary>
[TestClass]
public sealed class AlLoraGradientTests
{
    [ClassInitialize]
    public static void Initialise(TestContext _) => TorchRuntime.EnsureInitialized();

    private static JsonElement Reference()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "reference", "lora", "allora-gradients.json")));
        return document.RootElement.Clone();
    }

    private static Tensor T(JsonElement e)
    {
        var (values, shape) = JsonMatrix.Read(e);
        return tensor(values, shape);
    }

    private static void Near(JsonElement expected, Tensor actual, string what, double tolerance = 1e-12)
    {
        var want = JsonMatrix.Read(expected).Values;
        var scale = Math.Max(1, want.Max(Math.Abs));
        Assert.IsLessThan(tolerance * scale, JsonMatrix.MaxAbsDifference(actual.data<double>().ToArray(), want), what);
    }

    private static (LoraLinear Layer, Tensor X) Build(JsonElement inputs, bool zeroB, AdapterKind kind = AdapterKind.AlLora)
    {
        var w = T(inputs.GetProperty("W"));
        var layer = new LoraLinear(w, null, new AdapterSettings(kind, (int)T(inputs.GetProperty("A")).shape[0], 1, 0, inputs.GetProperty("eta").GetDouble(), ["query"]));
        using (no_grad())
        {
            layer.A.copy_(T(inputs.GetProperty("A")));
            if (!zeroB) layer.B.copy_(T(inputs.GetProperty("B")));
        }
        return (layer, T(inputs.GetProperty("X")).requires_grad_(true));
    }

    [TestMethod]
    public void ForwardRowFactorsAndGradientsEqualTheAnalyticFormulas()
    {
        var r = Reference();
        var inputs = r.GetProperty("inputs");
        var (layer, x) = Build(inputs, zeroB: false);
        var s = layer.RowFactors();
        Near(r.GetProperty("s"), s, "s = 1/sqrt(||(BA)_i|| + 1/eta^2), Gram norms");
        Assert.IsTrue(s.data<double>().ToArray().All(v => v > 0 && v <= inputs.GetProperty("eta").GetDouble()), "0 < s <= eta");
        Assert.AreEqual(inputs.GetProperty("eta").GetDouble(), s[2].item<double>(), "s = eta on the zero row of B A");

        var y = layer.forward(x);
        Near(r.GetProperty("y"), y, "forward = LoRA with gamma 1");
        (y * T(inputs.GetProperty("G"))).sum().backward();   // dL/dy = G
        Near(r.GetProperty("allora").GetProperty("grad_A"), layer.A.grad!, "grad_A = B^T diag(s) G^T X");
        Near(r.GetProperty("allora").GetProperty("grad_B"), layer.B.grad!, "grad_B = diag(s) G^T X A^T");
        Near(r.GetProperty("allora").GetProperty("grad_X"), x.grad!, "grad_X unscaled");
    }

    [TestMethod]
    public void AtBZeroGradAIsZeroAndTheFirstSgdStepIsEtaTimesLoras()
    {
        var r = Reference();
        var inputs = r.GetProperty("inputs");
        var zero = r.GetProperty("b_zero");
        var (layer, x) = Build(inputs, zeroB: true);
        (layer.forward(x) * T(inputs.GetProperty("G"))).sum().backward();
        Assert.AreEqual(0.0, layer.A.grad!.abs().max().item<double>(), "grad_A = 0 exactly");
        Near(zero.GetProperty("allora").GetProperty("grad_B"), layer.B.grad!, "grad_B = eta x LoRA's");
        var optimizer = optim.SGD(layer.parameters().Where(p => p.requires_grad), inputs.GetProperty("base_lr").GetDouble());
        optimizer.step();
        Near(zero.GetProperty("sgd_first_B"), layer.B, "first SGD step");
    }

    [TestMethod]
    public void LoraGradientsEqualTheAnalyticFormulasAndFiniteDifferences()
    {
        var r = Reference();
        var inputs = r.GetProperty("inputs");
        var (layer, x) = Build(inputs, zeroB: false, AdapterKind.Lora);   // alpha 1 / rank 3: gamma 1/3
        var g = T(inputs.GetProperty("G"));
        (layer.forward(x) * g).sum().backward();
        // The reference's LoRA gradients are for gamma = 1; ours carry gamma = alpha / r.
        double gamma = 1.0 / 3;
        Near(r.GetProperty("lora").GetProperty("grad_A"), layer.A.grad! / gamma, "grad_A = gamma (G B)^T X");
        Near(r.GetProperty("lora").GetProperty("grad_B"), layer.B.grad! / gamma, "grad_B = gamma G^T (X A^T)");

        // Central differences of L = sum(G (.) y) in one entry of A and one of B.
        foreach (var (parameter, index) in new[] { (layer.A, new long[] { 1, 2 }), (layer.B, new long[] { 3, 0 }) })
        {
            double Loss()
            {
                using var grad = no_grad();
                return (layer.forward(x) * g).sum().item<double>();
            }
            const double h = 1e-6;
            double original = parameter[index].item<double>();
            using (no_grad()) parameter[index].fill_(original + h);
            double up = Loss();
            using (no_grad()) parameter[index].fill_(original - h);
            double down = Loss();
            using (no_grad()) parameter[index].fill_(original);
            Assert.AreEqual((up - down) / (2 * h), parameter.grad![index].item<double>(), 1e-7, "finite difference");
        }
    }
}
