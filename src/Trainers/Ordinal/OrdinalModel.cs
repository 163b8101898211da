using Microsoft.ML.PaperExtensions.Onnx;

namespace Microsoft.ML.PaperExtensions.Ordinal;

/// <summary>One point of the lambda path.</summary>
/// <param name="Lambda">The penalty strength.</param>
/// <param name="CrossValidationBrier">Mean out-of-fold multi-class Brier score, or NaN when cross-validation did not run.</param>
/// <param name="CrossValidationBrierStandardError">Standard error of that mean over the folds.</param>
/// <param name="NonZeroDifferences">Non-zero entries of the difference vectors psi_2..psi_{K-1} of the full-data fit.</param>
/// <param name="NonZeroCoefficients">Non-zero entries of all psi (psi_1 included) of the full-data fit.</param>
public sealed record LambdaPathPoint(double Lambda, double CrossValidationBrier, double CrossValidationBrierStandardError, int NonZeroDifferences, int NonZeroCoefficients);

/// <summary>
/// A fitted cumulative logit model, immutable: <c>P(Y &lt;= k | x) = sigmoid(alpha_k + x' beta_k)</c>, k = 1..K-1, on the
/// original feature scale. The classes are in the model's internal order, where the rare class is the last; with
/// <see cref="RareClassPosition.First"/> that is the reverse of the label order, and <see cref="Probabilities"/> reports
/// in label order.
/// </summary>
public sealed class OrdinalModel
{
    internal OrdinalModel(IReadOnlyList<string> classNames, double[] intercepts, double[][] weights, RareClassPosition rareClass, CrossingRepair crossingRepair,
        double lambda, IReadOnlyList<LambdaPathPoint> path, double logLikelihood, int rowCount, int iterations, bool converged, double kktViolation)
    {
        ClassNames = classNames;
        _intercepts = intercepts;
        _weights = weights;
        RareClass = rareClass;
        CrossingRepair = crossingRepair;
        Lambda = lambda;
        Path = path;
        LogLikelihood = logLikelihood;
        RowCount = rowCount;
        Iterations = iterations;
        Converged = converged;
        KktViolation = kktViolation;
    }

    private readonly double[] _intercepts;
    private readonly double[][] _weights;

    /// <summary>Class names in label order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Number of classes K.</summary>
    public int ClassCount => ClassNames.Count;

    /// <summary>Number of features p.</summary>
    public int FeatureCount => _weights[0].Length;

    /// <summary>alpha_1..alpha_{K-1}, internal order.</summary>
    public IReadOnlyList<double> Intercepts => _intercepts;

    /// <summary>beta_1..beta_{K-1} (each of length p), original feature scale, internal order.</summary>
    public IReadOnlyList<IReadOnlyList<double>> Weights => _weights;

    /// <summary>The differences psi_1 = beta_1, psi_k = beta_k - beta_{k-1}.</summary>
    public IReadOnlyList<IReadOnlyList<double>> Differences =>
        _weights.Select((w, k) => (IReadOnlyList<double>)(k == 0 ? w.ToArray() : w.Select((v, j) => v - _weights[k - 1][j]).ToArray())).ToList();

    /// <summary>Which end class is rare.</summary>
    public RareClassPosition RareClass { get; }

    /// <summary>What prediction does when cumulative probabilities cross.</summary>
    public CrossingRepair CrossingRepair { get; }

    /// <summary>The penalty strength of this fit (0 for an unpenalised fit).</summary>
    public double Lambda { get; }

    /// <summary>The lambda path with cross-validation results; empty when lambda was given.</summary>
    public IReadOnlyList<LambdaPathPoint> Path { get; }

    /// <summary>Unpenalised log-likelihood of the training data (weighted sum over rows).</summary>
    public double LogLikelihood { get; }

    /// <summary>Training rows.</summary>
    public int RowCount { get; }

    /// <summary>Outer (proximal Newton) iterations of the final fit.</summary>
    public int Iterations { get; }

    /// <summary>Whether the final fit met its KKT tolerance.</summary>
    public bool Converged { get; }

    /// <summary>The largest KKT violation at the final fit, on the standardised scale.</summary>
    public double KktViolation { get; }

    /// <summary>Linear predictors eta_1..eta_{K-1} of one row (internal order).</summary>
    public double[] LinearPredictors(ReadOnlySpan<double> features)
    {
        if (features.Length != FeatureCount)
        {
            throw new ArgumentException($"Expected {FeatureCount} features, got {features.Length}.", nameof(features));
        }
        var eta = new double[ClassCount - 1];
        for (var k = 0; k < eta.Length; k++)
        {
            var sum = _intercepts[k];
            for (var j = 0; j < features.Length; j++) sum += features[j] * _weights[k][j];
            eta[k] = sum;
        }
        return eta;
    }

    /// <summary>P(rare class | x), from the unrepaired model (no crossing policy ever changes it).</summary>
    public double RareClassProbability(ReadOnlySpan<double> features) => Sigmoid(-LinearPredictors(features)[^1]);

    /// <summary>
    /// Class probabilities of one row in label order, after the crossing policy; <paramref name="repaired"/> says whether the
    /// cumulative probabilities crossed.
    /// </summary>
    public double[] Probabilities(ReadOnlySpan<double> features, out bool repaired)
    {
        var cdf = LinearPredictors(features).Select(Sigmoid).ToArray();
        repaired = false;
        for (var k = 0; k + 1 < cdf.Length; k++) repaired |= cdf[k] > cdf[k + 1];
        var fixedCdf = !repaired ? cdf : CrossingRepair switch
        {
            CrossingRepair.Clip => RunningMinimumFromTop(cdf),
            CrossingRepair.Isotonic => IsotonicWithLastFixed(cdf),
            _ => Enumerable.Repeat(double.NaN, cdf.Length).ToArray(),
        };
        var p = new double[ClassCount];
        for (var k = 0; k < ClassCount; k++)
        {
            p[k] = (k < fixedCdf.Length ? fixedCdf[k] : 1) - (k > 0 ? fixedCdf[k - 1] : 0);
        }
        if (RareClass == RareClassPosition.First) Array.Reverse(p);
        return p;
    }

    /// <summary>
    /// The model inside a transformer loaded with <c>mlContext.Model.Load</c> (a chain of ML.NET's own transformers), read
    /// from the details stored with its ONNX graph; or the model of an <see cref="OrdinalTransformer"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The transformer holds no ordinal model of this package.</exception>
    public static OrdinalModel FromLoaded(ITransformer transformer)
    {
        var d = ModelDetails.Read<Details>(transformer, nameof(OrdinalModel));
        return new OrdinalModel(d.ClassNames, d.Intercepts, d.Weights, d.RareClass, d.CrossingRepair, d.Lambda, d.Path, d.LogLikelihood, d.RowCount, d.Iterations, d.Converged, d.KktViolation);
    }

    /// <summary>What the ONNX graph stores of the model.</summary>
    internal sealed record Details(string[] ClassNames, double[] Intercepts, double[][] Weights, RareClassPosition RareClass, CrossingRepair CrossingRepair, double Lambda,
        LambdaPathPoint[] Path, double LogLikelihood, int RowCount, int Iterations, bool Converged, double KktViolation);

    internal Details ToDetails() => new([.. ClassNames], _intercepts, _weights, RareClass, CrossingRepair, Lambda, [.. Path], LogLikelihood, RowCount, Iterations, Converged, KktViolation);

    internal static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));

    /// <summary>F'_{K-1} = F_{K-1}, F'_k = min(F_k, F'_{k+1}).</summary>
    internal static double[] RunningMinimumFromTop(double[] cdf)
    {
        var result = (double[])cdf.Clone();
        for (var k = result.Length - 2; k >= 0; k--) result[k] = Math.Min(result[k], result[k + 1]);
        return result;
    }

    /// <summary>Pool-adjacent-violators with unit weights, except that the last value has infinite weight (stays fixed).</summary>
    internal static double[] IsotonicWithLastFixed(double[] cdf)
    {
        var values = new List<double>();
        var weights = new List<double>();
        var sizes = new List<int>();
        for (var k = 0; k < cdf.Length; k++)
        {
            values.Add(cdf[k]);
            weights.Add(k == cdf.Length - 1 ? double.PositiveInfinity : 1);
            sizes.Add(1);
            while (values.Count > 1 && values[^2] > values[^1])
            {
                double w1 = weights[^2], w2 = weights[^1];
                var merged = double.IsPositiveInfinity(w2) ? values[^1] : (w1 * values[^2] + w2 * values[^1]) / (w1 + w2);
                values[^2] = merged;
                weights[^2] = w1 + w2;
                sizes[^2] += sizes[^1];
                values.RemoveAt(values.Count - 1);
                weights.RemoveAt(weights.Count - 1);
                sizes.RemoveAt(sizes.Count - 1);
            }
        }
        return values.SelectMany((v, b) => Enumerable.Repeat(v, sizes[b])).ToArray();
    }
}
