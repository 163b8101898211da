using Microsoft.ML.PaperExtensions.Survival;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Tests.Survival;

[TestClass]
public sealed class SurvivalLikelihoodTests
{
    private static SurvivalLikelihood Problem(bool gompertz = false) => Build(gompertz, (t, e, tr, ev, w, a, p, s, g) => new SurvivalLikelihood(t, e, tr, ev, w, a, p, s, g));

    private static T Build<T>(bool gompertz, Func<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, bool, T> create)
    {
        var random = new Random(4);
        const int n = 80;
        var logTime = Enumerable.Range(0, n).Select(_ => Math.Log(0.1 + 2 * random.NextDouble())).ToArray();
        var entry = logTime.Select(l => random.NextDouble() < 0.3 ? l - 0.5 - random.NextDouble() : 0).ToArray();
        var truncated = entry.Select(e => e != 0 ? 1.0 : 0).ToArray();
        var events = Enumerable.Range(0, n).Select(_ => random.NextDouble() < 0.7 ? 1.0 : 0).ToArray();
        var weights = Enumerable.Range(0, n).Select(_ => 0.5 + random.NextDouble()).ToArray();
        Tensor Covariates(int p) => tensor(Enumerable.Range(0, n * p).Select(_ => random.NextDouble() * 2 - 1).ToArray(), [n, p], ScalarType.Float64);
        return create(tensor(logTime, ScalarType.Float64), tensor(entry, ScalarType.Float64), tensor(truncated, ScalarType.Float64),
            tensor(events, ScalarType.Float64), tensor(weights, ScalarType.Float64), Covariates(1), Covariates(2), Covariates(1), gompertz);
    }

    [TestMethod]
    [DataRow(0.4)]
    [DataRow(-0.3)]
    [DataRow(1e-8)]
    public void GradientEqualsFiniteDifferences(double nu)
    {
        using var problem = Problem();
        double[] theta = [0.1, 0.3, -0.2, 0.4, -0.3, 0.15, 0.2, nu];
        var (_, gradient) = problem.ValueAndGradient(theta);
        for (var j = 0; j < theta.Length; j++)
        {
            const double h = 1e-6;
            var up = (double[])theta.Clone();
            var down = (double[])theta.Clone();
            up[j] += h;
            down[j] -= h;
            var numeric = (problem.Value(up) - problem.Value(down)) / (2 * h);
            Assert.AreEqual(numeric, gradient[j], 1e-6 * (1 + Math.Abs(numeric)), $"coordinate {j}");
        }
    }

    [TestMethod]
    public void HessianEqualsSecondDifferencesOfTheLikelihood()
    {
        using var problem = Problem();
        double[] theta = [0.1, 0.3, -0.2, 0.4, -0.3, 0.15, 0.2, 0.4];
        var hessian = problem.Hessian(theta, Enumerable.Repeat(true, theta.Length).ToArray());
        const double h = 1e-4;
        for (var i = 0; i < theta.Length; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                double F(double di, double dj)
                {
                    var x = (double[])theta.Clone();
                    x[i] += di;
                    x[j] += dj;
                    return problem.Value(x);
                }
                var numeric = (F(h, h) - F(h, -h) - F(-h, h) + F(-h, -h)) / (4 * h * h);
                Assert.AreEqual(numeric, hessian[i, j], 1e-4 * (1 + Math.Abs(numeric)), $"({i}, {j})");
            }
        }
    }

    [TestMethod]
    [DataRow(false, 0.4)]
    [DataRow(false, -0.3)]
    [DataRow(false, 1e-8)]
    [DataRow(true, 0.0)]
    public void ClosedFormDerivativesEqualTheAutogradGradientAndTheFiniteDifferenceHessian(bool gompertz, double nu)
    {
        using var problem = Problem(gompertz);
        double[] theta = [0.1, 0.3, -0.2, 0.4, -0.3, gompertz ? 0 : 0.15, gompertz ? 0 : 0.2, nu];
        var free = Enumerable.Range(0, theta.Length).Select(j => !gompertz || j < 5).ToArray();
        var (value, gradient, hessian) = problem.Derivatives(theta);
        var (expectedValue, expectedGradient) = problem.ValueAndGradient(theta);
        var numeric = problem.Hessian(theta, free);
        Assert.AreEqual(expectedValue, value, 1e-10);
        for (var i = 0; i < theta.Length; i++)
        {
            if (!free[i]) continue;
            Assert.AreEqual(expectedGradient[i], gradient[i], 1e-9 * (1 + Math.Abs(expectedGradient[i])), $"gradient {i}");
            for (var j = 0; j < theta.Length; j++)
            {
                if (free[j]) Assert.AreEqual(numeric[i, j], hessian[i, j], 1e-5 * (1 + Math.Abs(numeric[i, j])), $"Hessian ({i}, {j})");
            }
        }
    }

    [TestMethod]
    public void GompertzGradientEqualsFiniteDifferences()
    {
        using var problem = Problem(gompertz: true);
        double[] theta = [0.1, 0.3, -0.2, 0.4, -0.3, 0, 0, 0];
        var (_, gradient) = problem.ValueAndGradient(theta);
        for (var j = 0; j < 5; j++)
        {
            var up = (double[])theta.Clone();
            var down = (double[])theta.Clone();
            up[j] += 1e-6;
            down[j] -= 1e-6;
            Assert.AreEqual((problem.Value(up) - problem.Value(down)) / 2e-6, gradient[j], 1e-5, $"coordinate {j}");
        }
    }

    [TestMethod]
    public void ChunksAddUpToTheWholeLikelihood()
    {
        using var whole = Problem();
        using var chunked = Build(false, (t, e, tr, ev, w, a, p, s, g) => new ChunkedSurvivalLikelihood(t, e, tr, ev, w, a, p, s, g, chunkRows: 17));
        double[] theta = [0.1, 0.3, -0.2, 0.4, -0.3, 0.15, 0.2, 0.4];
        var (value, gradient, hessian) = whole.Derivatives(theta);
        var (chunkValue, chunkGradient, chunkHessian) = chunked.Derivatives(theta);
        Assert.AreEqual(value, chunkValue, 1e-9);
        Assert.AreEqual(whole.Value(theta), chunked.Value(theta), 1e-9);
        for (var i = 0; i < theta.Length; i++)
        {
            Assert.AreEqual(gradient[i], chunkGradient[i], 1e-9, $"gradient {i}");
            for (var j = 0; j < theta.Length; j++) Assert.AreEqual(hessian[i, j], chunkHessian[i, j], 1e-8, $"Hessian ({i}, {j})");
        }
        using var subsample = chunked.Subsample(30, seed: 1);
        Assert.AreEqual(30, subsample.RowCount);
        Assert.IsTrue(double.IsFinite(subsample.Value(theta)));
    }
}
