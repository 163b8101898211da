using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions;
using Microsoft.ML.PaperExtensions.Ordinal;

namespace Microsoft.ML.PaperExtensions.TestSupport;

/// <summary>A design of the PRESTO paper's section 4 (spec section 12): n = 2500, p = 10, K = 4, x uniform on [-1, 1].</summary>
/// <param name="Name">For the report.</param>
/// <param name="Intercepts">alpha_1..alpha_3; the last one sets the rare-class frequency.</param>
/// <param name="Dense">Dense differences (all U(-0.5, 0.5)) instead of sparse ones.</param>
/// <param name="DeviationProbability">Sparse design: probability that a coordinate of beta_1 is 0.5 and that an increment is +-0.5.</param>
public sealed record Design(string Name, double[] Intercepts, bool Dense, double DeviationProbability = 0.5)
{
    public const int Rows = 2500;
    public const int Features = 10;
    public const int Classes = 4;

    public static readonly Design SparseMiddle = new("sparse differences (Fig 1), alpha = (0, 3.5, 5.5)", [0, 3.5, 5.5], false);
    public static readonly Design DenseMiddle = new("dense differences (Fig 2), alpha = (0, 3, 5)", [0, 3, 5], true);
}

/// <summary>One replicate: the three methods' rare-class MSE against the true P(Y = K | x) on the training points.</summary>
public sealed record ReplicateResult(double Presto, double ProportionalOdds, double Logit, double RareFrequency);

public static class Simulation
{
    internal sealed class Row
    {
        public float Label { get; set; }

        public bool IsRare { get; set; }

        [VectorType(Design.Features)]
        public float[] Features { get; set; } = [];
    }

    public static ReplicateResult Run(Design design, int seed)
    {
        var random = new Random(seed);
        var (x, truth, labels) = Draw(design, random);
        var rows = Enumerable.Range(0, Design.Rows).Select(i => new Row
        {
            Label = labels[i],
            IsRare = labels[i] == Design.Classes - 1,
            Features = x[i].Select(v => (float)v).ToArray(),
        }).ToArray();
        var ml = new MLContext(seed: seed);
        var data = ml.Data.LoadFromEnumerable(rows);
        var features = rows.Select(r => r.Features.Select(v => (double)v).ToArray()).ToArray();

        using var presto = ml.Ordinal().Trainers.Presto(new PrestoTrainer.Options { Seed = seed }).Fit(data);
        using var po = ml.Ordinal().Trainers.ProportionalOdds().Fit(data);
        // Logit: logistic regression of 1{y = K}, which is the two-class cumulative logit.
        using var logit = ml.Ordinal().Trainers.ProportionalOdds(labelColumnName: nameof(Row.IsRare)).Fit(data);

        double Mse(Func<double[], double> predict) => features.Select((f, i) => Math.Pow(predict(f) - truth[i], 2)).Average();
        return new ReplicateResult(
            Mse(f => presto.Model.RareClassProbability(f)),
            Mse(f => po.Model.RareClassProbability(f)),
            Mse(f => logit.Model.RareClassProbability(f)),
            labels.Count(y => y == Design.Classes - 1) / (double)Design.Rows);
    }

    /// <summary>Features, true P(Y = K | x_i), and labels; beta is redrawn while a true probability is negative, the data while a class is empty.</summary>
    internal static (double[][] X, double[] Truth, int[] Labels) Draw(Design design, Random random)
    {
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var x = Enumerable.Range(0, Design.Rows).Select(_ => Enumerable.Range(0, Design.Features).Select(_ => random.NextDouble() * 2 - 1).ToArray()).ToArray();
            double[][]? beta = null;
            for (var tries = 0; tries < 100 && beta is null; tries++)
            {
                var candidate = DrawBeta(design, random);
                if (x.All(row => Cdf(design, candidate, row).Zip(Cdf(design, candidate, row).Skip(1)).All(t => t.First <= t.Second))) beta = candidate;
            }
            if (beta is null) continue;
            var labels = x.Select(row =>
            {
                var u = random.NextDouble();
                var cdf = Cdf(design, beta, row);
                var k = Array.FindIndex(cdf, c => u < c);
                return k < 0 ? Design.Classes - 1 : k;
            }).ToArray();
            if (Enumerable.Range(0, Design.Classes).All(k => labels.Contains(k)))
            {
                return (x, x.Select(row => 1 - Cdf(design, beta, row)[^1]).ToArray(), labels);
            }
        }
        throw new InvalidOperationException($"No valid data for {design.Name} in 1000 attempts.");
    }

    private static double[][] DrawBeta(Design design, Random random)
    {
        var beta = new double[Design.Classes - 1][];
        beta[0] = Enumerable.Range(0, Design.Features)
            .Select(_ => design.Dense ? random.NextDouble() - 0.5 : random.NextDouble() < design.DeviationProbability ? 0.5 : 0).ToArray();
        for (var k = 1; k < beta.Length; k++)
        {
            beta[k] = beta[k - 1].Select(b => b + (design.Dense ? random.NextDouble() - 0.5
                : random.NextDouble() < design.DeviationProbability ? (random.NextDouble() < 0.5 ? -0.5 : 0.5) : 0)).ToArray();
        }
        return beta;
    }

    private static double[] Cdf(Design design, double[][] beta, double[] x) =>
        Enumerable.Range(0, Design.Classes - 1).Select(k => Sigmoid(design.Intercepts[k] + x.Select((v, j) => v * beta[k][j]).Sum())).ToArray();

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
