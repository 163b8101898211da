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

    private static (LoraLinear Layer, Tensor X) Build(JsonElement inputs, bool zeroB, AdapterKind kind = AdapterKind.AlLora, AlLoraGradientPath path = AlLoraGradientPath.DetachTrick)
    {
        var w = T(inputs.GetProperty("W"));
        var layer = new LoraLinear(w, null, new AdapterSettings(kind, (int)T(inputs.GetProperty("A")).shape[0], 1, 0, inputs.GetProperty("eta").GetDouble(), ["query"])) { AlLoraPath = path };
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
    [DataRow(false, false, DisplayName = "B from the reference, x [M, in]")]
    [DataRow(true, false, DisplayName = "B = 0, x [M, in]")]
    [DataRow(false, true, DisplayName = "B from the reference, x [2, M, in] (a batch of sequences)")]
    [DataRow(true, true, DisplayName = "B = 0, x [2, M, in] (a batch of sequences)")]
    public void TheDetachTrickAndTheCustomAutogradFunctionGiveTheAnalyticForwardAndGradients(bool zeroB, bool batched)
    {
        // Spec 6 (c): options 1 and 2 of 5.2 agree; both are held to the analytic values of 5.1, not only to each other.
        var r = Reference();
        var inputs = r.GetProperty("inputs");
        var expected = zeroB ? r.GetProperty("b_zero") : r;
        var g = T(inputs.GetProperty("G"));
        var results = new List<(Tensor Y, Tensor GradA, Tensor GradB, Tensor GradX)>();
        foreach (var path in new[] { AlLoraGradientPath.DetachTrick, AlLoraGradientPath.AutogradFunction })
        {
            var (layer, x) = Build(inputs, zeroB, path: path);
            // Batched: the same rows twice as [2, M, in], with G halved so the summed gradients of A and B equal the reference's.
            var input = batched ? stack([x, x]) : x;
            var gradient = batched ? stack([g, g]) / 2 : g;
            var y = layer.forward(input);
            (y * gradient).sum().backward();
            var yRows = batched ? y[0] : y;
            var gradX = x.grad!;   // batched: (G/2) from each copy, summed
            if (batched) Assert.AreEqual(0.0, (y[0] - y[1]).abs().max().item<double>(), $"{path}: both copies give the same rows");
            Near(expected.GetProperty("y"), yRows, $"{path}: forward = X W^T + X A^T B^T");
            Near(expected.GetProperty("allora").GetProperty("grad_A"), layer.A.grad!, $"{path}: grad_A = B^T diag(s) G^T X");
            Near(expected.GetProperty("allora").GetProperty("grad_B"), layer.B.grad!, $"{path}: grad_B = diag(s) G^T X A^T");
            Near(expected.GetProperty("allora").GetProperty("grad_X"), gradX, $"{path}: grad_X = G W + G B A, unscaled");
            if (zeroB) Assert.AreEqual(0.0, layer.A.grad!.abs().max().item<double>(), $"{path}: grad_A = 0 exactly at B = 0");
            results.Add((yRows.detach().clone(), layer.A.grad!.clone(), layer.B.grad!.clone(), gradX.clone()));
        }
        var (one, two) = (results[0], results[1]);
        foreach (var (a, b, what) in new[] { (one.Y, two.Y, "y"), (one.GradA, two.GradA, "grad_A"), (one.GradB, two.GradB, "grad_B"), (one.GradX, two.GradX, "grad_X") })
            Assert.IsLessThan(1e-13 * Math.Max(1, a.abs().max().item<double>()), (a - b).abs().max().item<double>(), $"options 1 and 2 agree on {what}");
    }

    [TestMethod]
    public void TheCustomAutogradFunctionTrainsLikeTheDetachTrick()
    {
        // Three SGD steps through both paths from the same start end at the same A and B; the step is 1e-1 so that
        // the row factors change between steps (s is recomputed from the moved weights each forward).
        var r = Reference();
        var inputs = r.GetProperty("inputs");
        var g = T(inputs.GetProperty("G"));
        var finals = new List<(Tensor A, Tensor B)>();
        foreach (var path in new[] { AlLoraGradientPath.DetachTrick, AlLoraGradientPath.AutogradFunction })
        {
            var (layer, x) = Build(inputs, zeroB: true, path: path);
            var optimizer = optim.SGD(layer.parameters().Where(p => p.requires_grad), 0.1);
            for (int step = 0; step < 3; step++)
            {
                optimizer.zero_grad();
                (layer.forward(x.detach()) * g).sum().backward();
                optimizer.step();
            }
            finals.Add((layer.A.detach().clone(), layer.B.detach().clone()));
        }
        Assert.IsGreaterThan(0.0, finals[0].A.sub(T(inputs.GetProperty("A"))).abs().max().item<double>(), "A moved after B left zero");
        Assert.IsLessThan(1e-13, (finals[0].A - finals[1].A).abs().max().item<double>(), "A after three steps");
        Assert.IsLessThan(1e-13, (finals[0].B - finals[1].B).abs().max().item<double>(), "B after three steps");
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
