using System.Globalization;
using System.Text;
using Microsoft.ML.PaperExtensions.Numerics;
using Microsoft.ML.PaperExtensions.Onnx;

namespace Microsoft.ML.PaperExtensions.Survival;

/// <summary>One estimated (or fixed) coefficient of a flexible survival model, on the original time and feature scales.</summary>
/// <param name="Parameter">phi (AFT scale), lambda (PH scale), gamma (power shape) or kappa.</param>
/// <param name="Term">"(Intercept)", a feature name, or "kappa".</param>
/// <param name="Estimate">The estimate (for phi, lambda and gamma: on the log scale of the parameter).</param>
/// <param name="StandardError">From the observed information; NaN when fixed or not identified.</param>
/// <param name="Z">Wald z = estimate / SE.</param>
/// <param name="P">Two-sided normal p-value of z.</param>
/// <param name="Fixed">Held at its value, not estimated.</param>
public sealed record SurvivalCoefficient(string Parameter, string Term, double Estimate, double StandardError, double Z, double P, bool Fixed);

/// <summary>
/// A fitted APGW multi-parameter regression model, immutable: <c>log phi = w'tau</c>, <c>log lambda = x'beta</c>,
/// <c>log gamma = v'alpha</c> (each with an intercept) and a scalar kappa, with standard errors from the observed information.
/// </summary>
public sealed class FlexibleSurvivalModel
{
    private readonly double[] _theta;
    private readonly double[,] _covariance;
    private readonly bool[] _free;

    internal FlexibleSurvivalModel(double[] theta, double[,] covariance, bool[] free, IReadOnlyList<string> aftFeatures, IReadOnlyList<string> phFeatures,
        IReadOnlyList<string> shapeFeatures, bool gompertz, double logLikelihood, int rowCount, double events, int iterations, bool converged,
        IReadOnlyList<string> notes)
    {
        _theta = theta;
        _covariance = covariance;
        _free = free;
        AftFeatures = aftFeatures;
        PhFeatures = phFeatures;
        ShapeFeatures = shapeFeatures;
        GompertzLimit = gompertz;
        LogLikelihood = logLikelihood;
        RowCount = rowCount;
        Events = events;
        Iterations = iterations;
        Converged = converged;
        Notes = notes;
        ParameterCount = free.Count(f => f);
        Coefficients = BuildCoefficients(free);
    }

    /// <summary>Features on the AFT scale phi.</summary>
    public IReadOnlyList<string> AftFeatures { get; }

    /// <summary>Features on the PH scale lambda.</summary>
    public IReadOnlyList<string> PhFeatures { get; }

    /// <summary>Features on the power shape gamma.</summary>
    public IReadOnlyList<string> ShapeFeatures { get; }

    /// <summary>Whether this is the Gompertz limit (kappa = +infinity, gamma = 1).</summary>
    public bool GompertzLimit { get; }

    /// <summary>kappa (+infinity in the Gompertz limit).</summary>
    public double Kappa => GompertzLimit ? double.PositiveInfinity : Math.Exp(_theta[^1]) - 1;

    /// <summary>The coefficient table, phi then lambda then gamma, then kappa.</summary>
    public IReadOnlyList<SurvivalCoefficient> Coefficients { get; }

    /// <summary>The maximised log-likelihood (original time unit).</summary>
    public double LogLikelihood { get; }

    /// <summary>Free parameters.</summary>
    public int ParameterCount { get; }

    /// <summary>2p - 2l.</summary>
    public double Aic => 2 * ParameterCount - 2 * LogLikelihood;

    /// <summary>p log n - 2l.</summary>
    public double Bic => ParameterCount * Math.Log(RowCount) - 2 * LogLikelihood;

    /// <summary>Training rows.</summary>
    public int RowCount { get; }

    /// <summary>Events (weighted).</summary>
    public double Events { get; }

    /// <summary>Newton iterations of the best fit.</summary>
    public int Iterations { get; }

    /// <summary>Whether the fit met its convergence criteria.</summary>
    public bool Converged { get; }

    /// <summary>
    /// Set when the likelihood has no interior maximum and keeps rising towards an edge of the parameter space: the
    /// direction in words (for example "gamma grows and kappa falls towards 0"); null otherwise. The estimates are then the
    /// best interior local maximum found, and <see cref="Notes"/> give the higher likelihood seen and the limiting model.
    /// </summary>
    public string? Boundary { get; init; }

    /// <summary>Whether the supremum of the likelihood lies on the boundary (see <see cref="Boundary"/>).</summary>
    public bool AtBoundary => Boundary is not null;

    /// <summary>The notes a user must not miss (no convergence, a boundary, too few events, a singular information matrix); the trainer also writes them to <c>MLContext.Log</c> as warnings.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>What was fixed for identifiability, boundary solutions, and other remarks.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>The covariance of the estimates (the coefficient table's order, kappa on the nu = log(kappa + 1) scale).</summary>
    public double[,] Covariance() => (double[,])_covariance.Clone();

    /// <summary>
    /// The model inside a transformer loaded with <c>mlContext.Model.Load</c> (a chain of ML.NET's own transformers), read
    /// from the details stored with its ONNX graph: coefficients, covariance, fit statistics and notes.
    /// </summary>
    /// <exception cref="ArgumentException">The transformer holds no flexible survival model of this package.</exception>
    public static FlexibleSurvivalModel FromLoaded(ITransformer transformer)
    {
        var d = ModelDetails.Read<Details>(transformer, nameof(FlexibleSurvivalModel));
        var dim = d.Theta.Length;
        var covariance = new double[dim, dim];
        for (var i = 0; i < dim; i++) for (var j = 0; j < dim; j++) covariance[i, j] = d.Covariance[i * dim + j];
        return new FlexibleSurvivalModel(d.Theta, covariance, d.Free, d.AftFeatures, d.PhFeatures, d.ShapeFeatures, d.GompertzLimit, d.LogLikelihood, d.RowCount,
            d.Events, d.Iterations, d.Converged, d.Notes) { Boundary = d.Boundary, Warnings = d.Warnings };
    }

    /// <summary>What the ONNX graph stores of the model.</summary>
    internal sealed record Details(double[] Theta, double[] Covariance, bool[] Free, string[] AftFeatures, string[] PhFeatures, string[] ShapeFeatures, bool GompertzLimit,
        double LogLikelihood, int RowCount, double Events, int Iterations, bool Converged, string[] Notes, string? Boundary, string[] Warnings);

    internal Details ToDetails() => new(_theta, _covariance.Cast<double>().ToArray(), _free, [.. AftFeatures], [.. PhFeatures], [.. ShapeFeatures], GompertzLimit,
        LogLikelihood, RowCount, Events, Iterations, Converged, [.. Notes], Boundary, [.. Warnings]);

    /// <summary>The APGW distribution of one row.</summary>
    public ApgwDistribution Distribution(ReadOnlySpan<double> aft, ReadOnlySpan<double> ph, ReadOnlySpan<double> shape)
    {
        var (logPhi, logLambda, logGamma) = LinearPredictors(aft, ph, shape);
        return new ApgwDistribution(Math.Exp(logPhi), Math.Exp(logLambda), Math.Exp(logGamma), Kappa);
    }

    /// <summary>log phi, log lambda, log gamma of one row.</summary>
    public (double LogPhi, double LogLambda, double LogGamma) LinearPredictors(ReadOnlySpan<double> aft, ReadOnlySpan<double> ph, ReadOnlySpan<double> shape)
    {
        Check(aft, AftFeatures, "AFT");
        Check(ph, PhFeatures, "PH");
        Check(shape, ShapeFeatures, "shape");
        int tau = 0, beta = 1 + AftFeatures.Count, alpha = beta + 1 + PhFeatures.Count;
        return (Linear(tau, aft), Linear(beta, ph), Linear(alpha, shape));
    }

    /// <summary>The likelihood-ratio test of <paramref name="smaller"/> nested in <paramref name="larger"/>: 2 (l1 - l0) against chi2(p1 - p0).</summary>
    /// <exception cref="ArgumentException">The models have the same number of parameters, or one is the Gompertz limit (a boundary: no chi2 reference).</exception>
    public static (double Statistic, int DegreesOfFreedom, double P) LikelihoodRatioTest(FlexibleSurvivalModel smaller, FlexibleSurvivalModel larger)
    {
        ArgumentNullException.ThrowIfNull(smaller);
        ArgumentNullException.ThrowIfNull(larger);
        var df = larger.ParameterCount - smaller.ParameterCount;
        if (df <= 0) throw new ArgumentException($"The larger model must have more free parameters ({larger.ParameterCount} vs {smaller.ParameterCount}).", nameof(larger));
        if (smaller.GompertzLimit || larger.GompertzLimit) throw new ArgumentException("The Gompertz limit is on the boundary of the APGW family; a chi-square p-value does not apply.", nameof(smaller));
        var statistic = Math.Max(0, 2 * (larger.LogLikelihood - smaller.LogLikelihood));
        return (statistic, df, SpecialFunctions.ChiSquareUpperTail(statistic, df));
    }

    /// <summary>A table like R's summary: parameter, term, estimate, SE, z, p; then kappa and the fit statistics.</summary>
    public string Summary()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"parameter",-10} {"term",-24} {"estimate",12} {"std.error",11} {"z",9} {"p",10}");
        foreach (var c in Coefficients)
        {
            var fixedMark = c.Fixed ? "   (fixed)" : "";
            text.AppendLine(CultureInfo.InvariantCulture, $"{c.Parameter,-10} {c.Term,-24} {c.Estimate,12:G6} {c.StandardError,11:G4} {c.Z,9:F3} {c.P,10:G3}{fixedMark}");
        }
        text.AppendLine(CultureInfo.InvariantCulture, $"kappa = {Kappa:G6}; logLik = {LogLikelihood:F4}, AIC = {Aic:F3}, BIC = {Bic:F3}; n = {RowCount}, events = {Events:G6}, parameters = {ParameterCount}");
        text.AppendLine(CultureInfo.InvariantCulture, $"iterations = {Iterations}, converged = {Converged}");
        foreach (var note in Notes) text.AppendLine(note);
        return text.ToString();
    }

    private double Linear(int start, ReadOnlySpan<double> x)
    {
        var sum = _theta[start];
        for (var j = 0; j < x.Length; j++) sum += _theta[start + 1 + j] * x[j];
        return sum;
    }

    private static void Check(ReadOnlySpan<double> values, IReadOnlyList<string> names, string set)
    {
        if (values.Length != names.Count) throw new ArgumentException($"Expected {names.Count} {set} features, got {values.Length}.");
    }

    private List<SurvivalCoefficient> BuildCoefficients(bool[] free)
    {
        var list = new List<SurvivalCoefficient>();
        var index = 0;
        foreach (var (parameter, names) in new[] { ("phi", AftFeatures), ("lambda", PhFeatures), ("gamma", ShapeFeatures) })
        {
            foreach (var term in names.Prepend("(Intercept)"))
            {
                list.Add(Row(parameter, term, _theta[index], index));
                index++;
            }
        }
        var nu = _theta[index];
        var kappaSe = free[index] ? (Math.Exp(nu)) * Math.Sqrt(_covariance[index, index]) : double.NaN;
        var kappa = Kappa;
        list.Add(new SurvivalCoefficient("kappa", "kappa", kappa, kappaSe, kappa / kappaSe, SpecialFunctions.NormalTwoSided(kappa / kappaSe), !free[index]));
        return list;

        SurvivalCoefficient Row(string parameter, string term, double estimate, int i)
        {
            var se = free[i] ? Math.Sqrt(_covariance[i, i]) : double.NaN;
            return new SurvivalCoefficient(parameter, term, estimate, se, estimate / se, SpecialFunctions.NormalTwoSided(estimate / se), !free[i]);
        }
    }
}
