using Microsoft.ML.PaperExtensions.Runtime;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Ordinal;

/// <summary>
/// Fits the cumulative logit of <see cref="CumulativeLogitProblem"/>: the lambda path from lambda_max down to
/// LambdaMinRatio * lambda_max with warm starts, K-fold cross-validation on the out-of-fold multi-class Brier score
/// (the largest lambda at the minimum wins), and the refit on all rows, mapped back to the original feature scale.
/// </summary>
internal sealed class OrdinalFitter(OrdinalTrainingData data, OrdinalSettings settings, TrainingMonitor monitor, Device device)
{
    private int K => data.ClassCount;

    private int P => data.FeatureCount;

    public OrdinalModel Fit()
    {
        var model = FitModel();
        if (settings.CrossingRepair == CrossingRepair.Error)
        {
            var crossing = Enumerable.Range(0, data.RowCount).Count(i => { model.Probabilities(data.Table.Features.AsSpan(i * P, P), out var crossed); return crossed; });
            if (crossing > 0)
            {
                throw new InvalidOperationException($"The fitted cumulative probabilities cross at {crossing} of {data.RowCount} training rows and CrossingRepair is Error; choose Clip or Isotonic, or a larger lambda.");
            }
        }
        return model;
    }

    private OrdinalModel FitModel()
    {
        var (mean, sd) = data.Standardisation(null, constantIsError: true);
        var (lambdas, fits) = FitAllRows(mean, sd);
        if (settings.ProportionalOdds || settings.Lambda is not null)
        {
            return Model(fits[0], mean, sd, lambdas[0], []);
        }

        var (cvMean, cvSe) = CrossValidate(lambdas);
        var best = cvMean.Min();
        var chosen = Array.FindIndex(cvMean, b => b == best);
        var path = lambdas.Select((l, i) => new LambdaPathPoint(l, cvMean[i], cvSe[i], NonZero(fits[i].Phi, differencesOnly: true), NonZero(fits[i].Phi, differencesOnly: false))).ToList();
        return Model(fits[chosen], mean, sd, lambdas[chosen], path);
    }

    /// <summary>
    /// The fits on all rows: proportional odds, the given lambda, or the whole lambda path (which cross-validation then
    /// chooses from). The all-rows design is released before cross-validation builds the folds' designs.
    /// </summary>
    private (double[] Lambdas, List<SolverResult> Fits) FitAllRows(double[] mean, double[] sd)
    {
        using var x = data.Design(null, mean, sd, device);
        using var problem = new CumulativeLogitProblem(x, data.Classes, data.Weights, K);
        var penalty = Penalty(lambda: 0);

        var unpenalised = Solve(problem, Start(null), penalty with { Fixed = FixPenalised(penalty) }, "unpenalised start");
        if (settings.ProportionalOdds)
        {
            return ([0], [Solve(problem, unpenalised.Phi, penalty with { Fixed = ProportionalOddsFixed() }, "proportional odds")]);
        }

        var lambdas = settings.Lambda is { } given ? [given] : Path(LambdaMax(problem, unpenalised.Phi, penalty));
        return (lambdas, FitPath(problem, unpenalised.Phi, lambdas, "lambda path"));
    }

    /// <summary>lambda_max = max |g_j| / (max(a, 0.01) c_j) over penalised coordinates, at the fit where only unpenalised ones are free.</summary>
    private double LambdaMax(CumulativeLogitProblem problem, double[] phi, PenaltySettings penalty)
    {
        var gradient = problem.Quadratic(phi).Gradient;
        var max = 0.0;
        for (var j = 0; j < phi.Length; j++)
        {
            if (penalty.PenaltyFactor[j] > 0)
            {
                max = Math.Max(max, Math.Abs(gradient[j]) / (Math.Max(settings.Mixing, 0.01) * penalty.PenaltyFactor[j]));
            }
        }
        return max > 0 ? max : 1;
    }

    private double[] Path(double lambdaMax)
    {
        var count = settings.NumberOfLambdas;
        return Enumerable.Range(0, count)
            .Select(i => count == 1 ? lambdaMax : lambdaMax * Math.Pow(settings.LambdaMinRatio, (double)i / (count - 1)))
            .ToArray();
    }

    private List<SolverResult> FitPath(CumulativeLogitProblem problem, double[] start, double[] lambdas, string stage)
    {
        var fits = new List<SolverResult>(lambdas.Length);
        var phi = start;
        for (var i = 0; i < lambdas.Length; i++)
        {
            var fit = Solve(problem, phi, Penalty(lambdas[i]), stage);
            fits.Add(fit);
            phi = fit.Phi;
            monitor.Report(new TrainingProgress(stage, i + 1, lambdas.Length, fit.Objective));
        }
        return fits;
    }

    /// <summary>Out-of-fold multi-class Brier score per lambda: mean over folds and its standard error.</summary>
    private (double[] Mean, double[] StandardError) CrossValidate(double[] lambdas)
    {
        var folds = settings.NumberOfFolds;
        if (folds > data.RowCount)
        {
            throw new ArgumentOutOfRangeException(nameof(settings.NumberOfFolds), folds, $"NumberOfFolds ({folds}) is larger than the number of rows ({data.RowCount}).");
        }
        var order = Enumerable.Range(0, data.RowCount).ToArray();
        new Random(settings.Seed).Shuffle(order);
        var foldOf = new int[data.RowCount];
        for (var r = 0; r < order.Length; r++) foldOf[order[r]] = r % folds;

        var brier = new double[folds, lambdas.Length];
        for (var f = 0; f < folds; f++)
        {
            // The previous fold's design (or, before the first fold, the all-rows design) is as large as this one's.
            LargeArrays.Release((long)data.RowCount * (P + 1));
            var train = Enumerable.Range(0, data.RowCount).Where(i => foldOf[i] != f).ToArray();
            var present = train.Select(i => data.Classes[i]).ToHashSet();
            if (present.Count < K)
            {
                var lost = Enumerable.Range(0, K).First(c => !present.Contains(c));
                var name = data.ClassNames[settings.RareClass == RareClassPosition.First ? K - 1 - lost : lost];
                var rows = data.Classes.Count(c => c == lost);
                throw new ArgumentException($"Class '{name}' of label column '{data.LabelColumn}' has {rows} row(s), and fold {f + 1} of the {folds}-fold cross-validation " +
                    "that chooses lambda leaves it out of the fold's training rows, so lambda cannot be chosen that way. Give Lambda (no cross-validation), use fewer folds " +
                    "(NumberOfFolds), or merge the class with its neighbour.", "NumberOfFolds");
            }
            var test = Enumerable.Range(0, data.RowCount).Where(i => foldOf[i] == f).ToArray();
            var (mean, sd) = data.Standardisation(train, constantIsError: false);
            using var x = data.Design(train, mean, sd, device);
            using var problem = new CumulativeLogitProblem(x, train.Select(i => data.Classes[i]).ToArray(), train.Select(i => data.Weights[i]).ToArray(), K);
            var penalty = Penalty(0);
            var start = Solve(problem, Start(train), penalty with { Fixed = FixPenalised(penalty) }, "cross-validation");
            var fits = FitPath(problem, start.Phi, lambdas, $"cross-validation fold {f + 1} of {folds}");
            for (var l = 0; l < lambdas.Length; l++)
            {
                // Probabilities for the criterion are always repaired: Error only concerns what prediction reports.
                brier[f, l] = Brier(Model(fits[l], mean, sd, lambdas[l], [], CrossingRepair.Isotonic), test);
            }
        }
        var meanBrier = new double[lambdas.Length];
        var se = new double[lambdas.Length];
        for (var l = 0; l < lambdas.Length; l++)
        {
            var values = Enumerable.Range(0, folds).Select(f => brier[f, l]).ToArray();
            meanBrier[l] = values.Average();
            se[l] = Math.Sqrt(values.Sum(v => (v - meanBrier[l]) * (v - meanBrier[l])) / (folds - 1) / folds);
        }
        return (meanBrier, se);
    }

    /// <summary>Weighted mean of sum_k (p_k - 1{y = k})^2 over <paramref name="rows"/>, internal class order.</summary>
    private double Brier(OrdinalModel model, int[] rows)
    {
        double sum = 0, total = 0;
        var x = data.Table.Features;
        foreach (var i in rows)
        {
            var p = model.Probabilities(x.AsSpan(i * P, P), out _);
            if (settings.RareClass == RareClassPosition.First) Array.Reverse(p);
            var row = 0.0;
            for (var k = 0; k < K; k++)
            {
                var d = p[k] - (data.Classes[i] == k ? 1 : 0);
                row += d * d;
            }
            sum += data.Weights[i] * row;
            total += data.Weights[i];
        }
        return sum / total;
    }

    /// <summary>
    /// A coefficient this large on the standardised scale (a one-SD change multiplying the odds by e^30) only arises when
    /// the likelihood has no finite maximum.
    /// </summary>
    private const double SeparationBound = 30;

    private SolverResult Solve(CumulativeLogitProblem problem, double[] start, PenaltySettings penalty, string stage)
    {
        var result = ProximalNewtonSolver.Solve(problem, start, penalty, monitor.CancellationToken);
        var largest = MaxAbs(result.Phi);
        if (largest > SeparationBound && (penalty.Lambda == 0 || !result.Converged))
        {
            throw new InvalidOperationException(
                $"The {stage} fit has no finite maximum: coefficients grow without bound (largest {largest:G3} on the standardised scale), " +
                $"so the classes of label column '{data.LabelColumn}' are (quasi-)completely separated by the features. " +
                "Use PRESTO with a positive lambda and PenalizeFirstVector = true, or remove the separating features.");
        }
        return result;
    }

    private static double MaxAbs(double[] values) => values.Max(Math.Abs);

    /// <summary>Intercepts at the logits of the marginal cumulative class frequencies (clipped to +-100), differences 0.</summary>
    private double[] Start(IReadOnlyList<int>? rows)
    {
        var counts = new double[K];
        var all = rows ?? Enumerable.Range(0, data.RowCount).ToArray();
        foreach (var i in all) counts[data.Classes[i]] += data.Weights[i];
        var total = counts.Sum();
        var phi = new double[(K - 1) * (P + 1)];
        var cumulative = 0.0;
        for (var k = 0; k < K - 1; k++)
        {
            cumulative += counts[k];
            var f = cumulative / total;
            phi[k * (P + 1)] = Math.Clamp(Math.Log(f / (1 - f)), -100, 100);
        }
        // Classes missing from a fold would give equal intercepts, and a zero-width class crosses: keep them apart.
        for (var k = 1; k < K - 1; k++)
        {
            var index = k * (P + 1);
            phi[index] = Math.Max(phi[index], phi[index - (P + 1)] + 1e-3);
        }
        return phi;
    }

    private PenaltySettings Penalty(double lambda)
    {
        var factor = new double[(K - 1) * (P + 1)];
        for (var k = 0; k < K - 1; k++)
        {
            for (var j = 1; j <= P; j++)
            {
                factor[k * (P + 1) + j] = k == 0 && !settings.PenalizeFirstVector ? 0 : 1;
            }
        }
        return new PenaltySettings(lambda, settings.Mixing, factor, new bool[factor.Length]);
    }

    private static bool[] FixPenalised(PenaltySettings penalty) => penalty.PenaltyFactor.Select(c => c > 0).ToArray();

    /// <summary>Proportional odds: every difference psi_2..psi_{K-1} held at 0, so all beta_k equal psi_1.</summary>
    private bool[] ProportionalOddsFixed()
    {
        var fixedAt = new bool[(K - 1) * (P + 1)];
        for (var k = 1; k < K - 1; k++)
        {
            for (var j = 1; j <= P; j++) fixedAt[k * (P + 1) + j] = true;
        }
        return fixedAt;
    }

    private int NonZero(double[] phi, bool differencesOnly)
    {
        var count = 0;
        for (var k = differencesOnly ? 1 : 0; k < K - 1; k++)
        {
            for (var j = 1; j <= P; j++) count += phi[k * (P + 1) + j] != 0 ? 1 : 0;
        }
        return count;
    }

    /// <summary>Maps a standardised fit back: beta_k = beta~_k / s, alpha_k = alpha~_k - sum_j (m_j / s_j) beta~_jk.</summary>
    private OrdinalModel Model(SolverResult fit, double[] mean, double[] sd, double lambda, IReadOnlyList<LambdaPathPoint> path, CrossingRepair? repair = null)
    {
        var intercepts = new double[K - 1];
        var weights = new double[K - 1][];
        var cumulative = new double[P];
        for (var k = 0; k < K - 1; k++)
        {
            weights[k] = new double[P];
            var alpha = fit.Phi[k * (P + 1)];
            for (var j = 0; j < P; j++)
            {
                cumulative[j] += fit.Phi[k * (P + 1) + 1 + j];
                weights[k][j] = cumulative[j] / sd[j];
                alpha -= mean[j] * cumulative[j] / sd[j];
            }
            intercepts[k] = alpha;
        }
        var totalWeight = data.Weights.Sum();
        return new OrdinalModel(data.ClassNames, intercepts, weights, settings.RareClass, repair ?? settings.CrossingRepair, lambda, path,
            -fit.NegativeLogLikelihood * totalWeight, data.RowCount, fit.Iterations, fit.Converged, fit.KktViolation);
    }
}
