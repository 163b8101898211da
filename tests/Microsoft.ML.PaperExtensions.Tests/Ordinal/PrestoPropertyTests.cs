using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Ordinal;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Tests.Ordinal;

/// <summary>The validation properties of the PRESTO spec (section 10) on synthetic data.</summary>
[TestClass]
public sealed class PrestoPropertyTests
{
    internal sealed class Row
    {
        public float Label { get; set; }

        [VectorType(3)]
        public float[] Features { get; set; } = [];
    }

    /// <summary>K = 4 classes from a non-parallel model with features uniform on [-1, 1].</summary>
    internal static Row[] Simulate(int n, int seed, double scale = 1, double shift = 0)
    {
        var random = new Random(seed);
        double[] alpha = [-1, 0.5, 2.5];
        double[][] beta = [[1, -0.5, 0], [1, -0.5, 0.5], [1.5, -0.5, 0.5]];
        return Enumerable.Range(0, n).Select(_ =>
        {
            var x = Enumerable.Range(0, 3).Select(_ => random.NextDouble() * 2 - 1).ToArray();
            var u = random.NextDouble();
            var label = 3;
            for (var k = 0; k < 3; k++)
            {
                if (u < OrdinalModel.Sigmoid(alpha[k] + x.Select((v, j) => v * beta[k][j]).Sum())) { label = k; break; }
            }
            return new Row { Label = label, Features = x.Select((v, j) => (float)(j == 0 ? v * scale + shift : v)).ToArray() };
        }).ToArray();
    }

    private static double[] Flat(Row r) => r.Features.Select(v => (double)v).ToArray();

    [TestMethod]
    public void ProbabilitiesSumToOneAndTheRareClassIsTheSigmoidOfMinusTheLastPredictor()
    {
        var ml = new MLContext(seed: 1);
        var rows = Simulate(400, 1);
        using var model = ml.Ordinal().Trainers.Presto(lambda: 0.002).Fit(ml.Data.LoadFromEnumerable(rows));
        foreach (var row in rows.Take(50))
        {
            var p = model.Model.Probabilities(Flat(row), out _);
            Assert.AreEqual(1.0, p.Sum(), 1e-12);
            var eta = model.Model.LinearPredictors(Flat(row));
            Assert.AreEqual(1 / (1 + Math.Exp(eta[^1])), p[^1], 1e-12);
            Assert.AreEqual(p[^1], model.Model.RareClassProbability(Flat(row)), 1e-12);
        }
    }

    [TestMethod]
    public void LambdaMaxZeroesEveryPenalisedCoefficientAndLeavesTheMarginalIntercepts()
    {
        var ml = new MLContext(seed: 1);
        var rows = Simulate(500, 2);
        using var path = ml.Ordinal().Trainers.Presto(new PrestoTrainer.Options { NumberOfLambdas = 5, Seed = 1 }).Fit(ml.Data.LoadFromEnumerable(rows));
        var lambdaMax = path.Model.Path[0].Lambda;
        Assert.AreEqual(0, path.Model.Path[0].NonZeroCoefficients, "the first path point is lambda_max");

        using var atMax = ml.Ordinal().Trainers.Presto(lambda: lambdaMax).Fit(ml.Data.LoadFromEnumerable(rows));
        Assert.IsTrue(atMax.Model.Weights.All(w => w.All(v => v == 0)));
        var cumulative = 0.0;
        for (var k = 0; k < 3; k++)
        {
            cumulative += rows.Count(r => r.Label == k) / (double)rows.Length;
            Assert.AreEqual(Math.Log(cumulative / (1 - cumulative)), atMax.Model.Intercepts[k], 1e-7, $"alpha{k + 1}");
        }
        using var below = ml.Ordinal().Trainers.Presto(lambda: lambdaMax * 0.9).Fit(ml.Data.LoadFromEnumerable(rows));
        Assert.IsTrue(below.Model.Weights.Any(w => w.Any(v => v != 0)), "just below lambda_max something enters");
    }

    [TestMethod]
    public void PredictionsDoNotDependOnTheFeatureScale()
    {
        var ml = new MLContext(seed: 1);
        var rows = Simulate(300, 3);
        var scaled = Simulate(300, 3, scale: 25, shift: -7);
        using var a = ml.Ordinal().Trainers.Presto(lambda: 0.01).Fit(ml.Data.LoadFromEnumerable(rows));
        using var b = ml.Ordinal().Trainers.Presto(lambda: 0.01).Fit(ml.Data.LoadFromEnumerable(scaled));
        for (var i = 0; i < 40; i++)
        {
            // The scaled features are rounded to Single, so agreement is to about 1e-6, not to the last bit.
            var pa = a.Model.Probabilities(Flat(rows[i]), out _);
            var pb = b.Model.Probabilities(Flat(scaled[i]), out _);
            for (var k = 0; k < pa.Length; k++) Assert.AreEqual(pa[k], pb[k], 1e-5, $"row {i}, class {k}");
        }
        Assert.AreEqual(a.Model.Weights[0][0] / 25, b.Model.Weights[0][0], 1e-8, "the coefficient is mapped back to the original scale");
    }

    [TestMethod]
    public void KktConditionsHoldAlongThePath()
    {
        var ml = new MLContext(seed: 1);
        var rows = Simulate(400, 4);
        foreach (var lambda in new[] { 0.0, 0.001, 0.01, 0.05 })
        {
            using var model = ml.Ordinal().Trainers.Presto(lambda: lambda).Fit(ml.Data.LoadFromEnumerable(rows));
            Assert.IsTrue(model.Model.Converged, $"lambda {lambda}");
            Assert.IsLessThan(1e-8, model.Model.KktViolation, $"lambda {lambda}");
        }
    }

    /// <summary>Intercepts far apart and small differences: every class probability of <see cref="RandomProblem"/>'s rows stays positive.</summary>
    private static readonly double[] Phi = [-1.5, 0.2, -0.1, 0.3, 0.0, 0.05, 0.1, -0.05, 1.5, -0.1, 0.02, 0.04];

    /// <summary>A random weighted problem of 60 rows, 3 features and 4 classes, in chunks of 7 rows (eight full chunks and a partial one).</summary>
    private static CumulativeLogitProblem RandomProblem(int seed)
    {
        var random = new Random(seed);
        var n = 60;
        var x = Enumerable.Range(0, n * 3).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        var y = Enumerable.Range(0, n).Select(_ => (long)random.Next(4)).ToArray();
        var w = Enumerable.Range(0, n).Select(_ => 0.5 + random.NextDouble()).ToArray();
        using var features = tensor(x, [n, 3], ScalarType.Float64);
        using var design = CumulativeLogitProblem.Design(features);
        return new CumulativeLogitProblem(design, y, w, 4, chunkRows: 7);
    }

    [TestMethod]
    public void AnalyticGradientEqualsFiniteDifferences()
    {
        using var problem = RandomProblem(5);
        var phi = Phi;
        var gradient = problem.Quadratic(phi).Gradient;
        for (var j = 0; j < phi.Length; j++)
        {
            const double h = 1e-6;
            var up = (double[])phi.Clone();
            var down = (double[])phi.Clone();
            up[j] += h;
            down[j] -= h;
            var numeric = (problem.NegativeLogLikelihood(up) - problem.NegativeLogLikelihood(down)) / (2 * h);
            Assert.AreEqual(numeric, gradient[j], 1e-7, $"coordinate {j}");
        }
    }

    [TestMethod]
    public void AnalyticHessianEqualsFiniteDifferencesOfTheGradientOverRowChunks()
    {
        using var problem = RandomProblem(6);
        var phi = Phi;
        var (_, _, hessian) = problem.Quadratic(phi);
        var d = phi.Length;
        for (var j = 0; j < d; j++)
        {
            const double h = 1e-5;
            var up = (double[])phi.Clone();
            var down = (double[])phi.Clone();
            up[j] += h;
            down[j] -= h;
            var (gUp, gDown) = (problem.Quadratic(up).Gradient, problem.Quadratic(down).Gradient);
            for (var i = 0; i < d; i++)
            {
                Assert.AreEqual((gUp[i] - gDown[i]) / (2 * h), hessian[i * d + j], 1e-7, $"entry ({i}, {j})");
            }
        }
    }

    [TestMethod]
    public void PenaltyOnDifferencesEqualsTheFusedPenaltyOnTheWeightVectors()
    {
        double[][] beta = [[0.5, -1], [0.75, -1], [0.25, 0.5]];
        // phi layout: [boundary][alpha, psi_1..psi_p]; psi_1 = beta_1, psi_k = beta_k - beta_{k-1}.
        double[] phi = [0, 0.5, -1, 0, 0.25, 0, 0, -0.5, 1.5];
        var factor = new double[] { 0, 1, 1, 0, 1, 1, 0, 1, 1 };
        var penalty = new PenaltySettings(0.3, 1, factor, new bool[9]);
        var fused = 0.3 * (beta[0].Sum(Math.Abs) + beta[1].Zip(beta[0]).Sum(t => Math.Abs(t.First - t.Second)) + beta[2].Zip(beta[1]).Sum(t => Math.Abs(t.First - t.Second)));
        Assert.AreEqual(fused, penalty.Penalty(phi), 1e-12);
    }

    [TestMethod]
    public void ReversingTheClassOrderMirrorsTheModelWhenTheFirstVectorIsFree()
    {
        var ml = new MLContext(seed: 1);
        var rows = Simulate(400, 6);
        var reversed = rows.Select(r => new Row { Label = 3 - r.Label, Features = r.Features }).ToArray();
        var options = new PrestoTrainer.Options { Lambda = 0.01, PenalizeFirstVector = false };
        using var a = ml.Ordinal().Trainers.Presto(options).Fit(ml.Data.LoadFromEnumerable(rows));
        using var b = ml.Ordinal().Trainers.Presto(options).Fit(ml.Data.LoadFromEnumerable(reversed));
        for (var k = 0; k < 3; k++)
        {
            Assert.AreEqual(-a.Model.Intercepts[2 - k], b.Model.Intercepts[k], 1e-6, $"alpha{k + 1}");
            for (var j = 0; j < 3; j++)
            {
                Assert.AreEqual(-a.Model.Weights[2 - k][j], b.Model.Weights[k][j], 1e-6, $"beta{k + 1}[{j}]");
            }
        }
        Assert.AreEqual(a.Model.LogLikelihood, b.Model.LogLikelihood, 1e-7);
    }

    [TestMethod]
    public void CrossValidationPicksTheLargestLambdaAtTheMinimumBrier()
    {
        var ml = new MLContext(seed: 1);
        var rows = Simulate(600, 7);
        using var model = ml.Ordinal().Trainers.Presto(new PrestoTrainer.Options { NumberOfLambdas = 8, NumberOfFolds = 4, Seed = 3 }).Fit(ml.Data.LoadFromEnumerable(rows));
        var path = model.Model.Path;
        Assert.AreEqual(8, path.Count);
        Assert.IsTrue(path.Zip(path.Skip(1)).All(t => t.First.Lambda > t.Second.Lambda), "lambda decreases along the path");
        var best = path.Min(p => p.CrossValidationBrier);
        Assert.AreEqual(path.First(p => p.CrossValidationBrier == best).Lambda, model.Model.Lambda);
        Assert.IsTrue(path.All(p => p.CrossValidationBrierStandardError >= 0 && double.IsFinite(p.CrossValidationBrier)));
    }
}
