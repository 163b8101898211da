using Microsoft.ML.PaperExtensions.Numerics;
using Microsoft.ML.PaperExtensions.Runtime;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Survival;

/// <summary>
/// Maximum likelihood for the APGW multi-parameter regression: time divided by its median and covariates standardised
/// internally (estimates and covariance mapped back), a Weibull start, several kappa starts when kappa is free, and
/// damped (Levenberg-Marquardt) Newton steps with the exact Hessian (autograd per row, assembled by design blocks).
/// </summary>
internal sealed class FlexibleSurvivalFitter(SurvivalTrainingData data, SurvivalSettings options, TrainingMonitor monitor, Device device)
{
    private const double NuLower = -30, NuUpper = 15;
    private static readonly double[] KappaStarts = [-0.5, 0, 0.5, 2];

    /// <summary>Above this many rows, starting values are fitted on a random subsample of this size.</summary>
    private const int StartRows = 50_000;

    /// <summary>Newton steps each kappa start gets before the best is chosen.</summary>
    private const int ScoutIterations = 2;

    public FlexibleSurvivalModel Fit()
    {
        var n = data.RowCount;
        if (data.Time.Distinct().Take(2).Count() == 1)
        {
            throw new ArgumentException($"Time column '{options.Outcome.Time}' has the same value ({data.Time[0]}) in every row; a continuous survival distribution cannot be fitted " +
                "(its likelihood grows without bound as the distribution concentrates on that time).", options.Outcome.TimeOption);
        }
        var scale = Median(data.Time);
        var events = data.Event.Zip(data.Weight, (e, w) => e * w).Sum();
        var eventRows = data.Event.Count(e => e == 1);
        var exposure = data.Time.Zip(data.Weight, (t, w) => t / scale * w).Sum();
        var (aftMean, aftSd) = Standardisation(data.Aft, "AFT");
        var (phMean, phSd) = Standardisation(data.Ph, "PH");
        var (shapeMean, shapeSd) = Standardisation(data.Shape, "shape");
        var entered = data.Entry.Any(e => e > 0);
        using var logTime = TensorCopy.Adopt(data.Time.Select(t => Math.Log(t / scale)).ToArray(), device, n);
        using var truncated = entered ? TensorCopy.Adopt(data.Entry.Select(e => e > 0 ? 1.0 : 0.0).ToArray(), device, n) : TensorCopy.Constant(0, n, device);
        using var logEntry = entered ? TensorCopy.Adopt(data.Entry.Select(e => e > 0 ? Math.Log(e / scale) : 0).ToArray(), device, n) : TensorCopy.Constant(0, n, device);
        using var isEvent = TensorCopy.Adopt(data.Event, device, n);
        using var weight = data.Weight.All(w => w == 1) ? TensorCopy.Constant(1, n, device) : TensorCopy.Adopt(data.Weight, device, n);
        using var aft = Matrix(data.Aft, aftMean, aftSd);
        using var ph = Matrix(data.Ph, phMean, phSd);
        using var shape = Matrix(data.Shape, shapeMean, shapeSd);
        using var likelihood = new ChunkedSurvivalLikelihood(logTime, logEntry, truncated, isEvent, weight, aft, ph, shape, options.GompertzLimit);
        data.ReleaseRows();
        // The arrays just dropped are as large as the data; give their memory back before the fit's own allocations.
        LargeArrays.Release((long)n * (4 + likelihood.ParameterCount));

        var notes = new List<string>();
        var warnings = new List<string>();
        void Warn(string text)
        {
            notes.Add(text);
            warnings.Add(text);
        }
        var free = Enumerable.Repeat(true, likelihood.ParameterCount).ToArray();
        var start = new double[likelihood.ParameterCount];
        if (eventRows < free.Count(f => f))
        {
            Warn($"Only {eventRows} event row(s) for {free.Count(f => f)} parameters: the model is barely or not identified, and its estimates rest on the censored rows' times.");
        }
        start[likelihood.BetaStart] = Math.Log(events / exposure);
        start[likelihood.NuIndex] = Math.Log(2);
        if (options.FixLambdaAtOne)
        {
            free[likelihood.BetaStart] = false;
            start[likelihood.BetaStart] = 0;
            notes.Add("lambda fixed at 1 (its intercept at 0).");
        }
        if (options.GompertzLimit)
        {
            free[likelihood.AlphaStart] = false;
            free[likelihood.NuIndex] = false;
            notes.Add("Gompertz limit: kappa = +infinity and gamma fixed at 1.");
        }
        else if (options.Kappa is { } kappa)
        {
            free[likelihood.NuIndex] = false;
            start[likelihood.NuIndex] = Math.Log(kappa + 1);
            notes.Add($"kappa fixed at {kappa}.");
            if (kappa == 1 && likelihood.ShapeCount == 0 && !options.FixLambdaAtOne)
            {
                free[likelihood.TauStart] = false;
                notes.Add("phi intercept fixed at 0: with kappa = 1 and a constant gamma only lambda * phi^gamma is identified.");
            }
        }

        // On many rows, starting values come from a random subsample; only the last fit runs on every row.
        using var subsample = likelihood.RowCount > StartRows ? likelihood.Subsample(StartRows, seed: 0) : null;
        var starter = subsample ?? likelihood;
        SolverOutcome best;
        string? boundary = null;
        if (options.Kappa is null && !options.GompertzLimit)
        {
            // Weibull first (kappa = 1, phi intercept 0), then APGW from it at several kappa, never exactly at kappa = 1.
            // Each kappa start gets two Newton steps; the most promising one is then run to convergence.
            var weibullFree = (bool[])free.Clone();
            weibullFree[likelihood.NuIndex] = false;
            weibullFree[likelihood.TauStart] = false;
            var weibull = Maximize(starter, start, weibullFree, "Weibull start", options.MaximumNumberOfIterations);
            var scouts = KappaStarts.Select(kappa0 =>
            {
                var from = (double[])weibull.Theta.Clone();
                from[likelihood.NuIndex] = Math.Log(kappa0 + 1);
                return Maximize(starter, from, free, $"APGW from kappa = {kappa0}", ScoutIterations);
            }).ToList();
            var promising = scouts.MaxBy(f => f.LogLikelihood)!;
            if (subsample is not null)
            {
                promising = Maximize(subsample, promising.Theta, free, "APGW on the subsample", options.MaximumNumberOfIterations);
            }
            best = promising.Converged && subsample is null ? promising : Maximize(likelihood, promising.Theta, free, "APGW", options.MaximumNumberOfIterations);
            var weibullValue = likelihood.Value(weibull.Theta);
            if (best.LogLikelihood < weibullValue - 1e-8 * Math.Abs(weibullValue))
            {
                // The Weibull is nested (kappa = 1): a lower maximum is a local one. Refit next to the Weibull estimates.
                var from = (double[])weibull.Theta.Clone();
                from[likelihood.NuIndex] = Math.Log(2) + 0.01;
                best = Maximize(likelihood, from, free, "APGW from the Weibull fit", options.MaximumNumberOfIterations);
            }
            boundary = ProbeBoundary(likelihood, starter, weibull.Theta, free, ref best, Warn, -events * Math.Log(scale));
        }
        else
        {
            var from = subsample is null ? start : Maximize(subsample, start, free, "fit on the subsample", options.MaximumNumberOfIterations).Theta;
            best = Maximize(likelihood, from, free, "fit", options.MaximumNumberOfIterations);
        }
        if (!best.Converged)
        {
            var (_, gradient, _) = likelihood.Derivatives(best.Theta);
            var largest = gradient.Where((_, j) => free[j]).Max(Math.Abs);
            Warn($"Not converged: the last fit stopped after {best.Iterations} Newton iterations (MaximumNumberOfIterations = {options.MaximumNumberOfIterations}) " +
                      $"or when no damped step improved the likelihood; the largest score component is {largest:G3}. Estimates and standard errors are unreliable.");
        }
        var nu = best.Theta[likelihood.NuIndex];
        if (free[likelihood.NuIndex] && (nu <= NuLower + 1e-6 || nu >= NuUpper - 1e-6))
        {
            Warn($"kappa reached the boundary of its search range (nu = {nu:G4}); the estimate is a boundary solution.");
        }

        var hessian = likelihood.Derivatives(best.Theta).Hessian;
        var covarianceScaled = Covariance(hessian, free, Warn);
        var (theta, covariance) = MapBack(best.Theta, covarianceScaled, free, likelihood, scale, aftMean, aftSd, phMean, phSd, shapeMean, shapeSd);
        var logLikelihood = best.LogLikelihood - events * Math.Log(scale);
        return new FlexibleSurvivalModel(theta, covariance, free, data.AftNames, data.PhNames, data.ShapeNames, options.GompertzLimit,
            logLikelihood, n, events, best.Iterations, best.Converged, notes) { Boundary = boundary, Warnings = warnings };
    }

    private sealed record SolverOutcome(double[] Theta, double LogLikelihood, int Iterations, bool Converged);

    /// <summary>gamma (at the covariate means) beyond this factor of 1 either way counts as running off.</summary>
    private const double ExtremeLogGamma = 4.5;

    /// <summary>Starts towards the edges of the APGW family where a likelihood may keep rising: the power shape gamma
    /// several times larger (a near-threshold hazard), with kappa small (the Burr XII side) or moderate.</summary>
    private static readonly (double LogGammaShift, double Kappa)[] BoundaryStarts = [(1.5, 0.05), (3, 0.05), (1.5, 0.5), (3, 0.5)];

    /// <summary>
    /// Looks for likelihood beyond the interior maximum: fits from starts towards the edges of the family. A converged fit
    /// with moderate parameters that is better simply replaces <paramref name="best"/>. A better one whose gamma or kappa runs
    /// off (or that is still rising when its iterations end) means the supremum lies on the boundary of the parameter space:
    /// <paramref name="best"/> stays the interior maximum (its predictions stay sensible, where the limit is a degenerate
    /// threshold model), and the direction is returned and explained in the notes.
    /// </summary>
    private string? ProbeBoundary(ChunkedSurvivalLikelihood likelihood, ChunkedSurvivalLikelihood starter, double[] weibull, bool[] free, ref SolverOutcome best, Action<string> warn,
        double logLikelihoodOffset)
    {
        var tolerance = 1e-6 * (1 + Math.Abs(best.LogLikelihood));
        SolverOutcome? better = null;
        foreach (var (shift, kappa) in BoundaryStarts)
        {
            var from = (double[])weibull.Clone();
            from[likelihood.AlphaStart] += shift;
            from[likelihood.NuIndex] = Math.Log(kappa + 1);
            SolverOutcome probe;
            try
            {
                probe = Maximize(starter, from, free, $"boundary probe (gamma x e^{shift}, kappa {kappa})", options.MaximumNumberOfIterations);
            }
            catch (InvalidOperationException)
            {
                continue; // a start with a non-finite likelihood says nothing
            }
            if (!ReferenceEquals(starter, likelihood)) probe = probe with { LogLikelihood = likelihood.Value(probe.Theta) };
            if (probe.LogLikelihood > (better?.LogLikelihood ?? best.LogLikelihood) + tolerance) better = probe;
        }
        if (better is null) return null;
        var logGamma = better.Theta[likelihood.AlphaStart];
        var kappaFound = Math.Exp(better.Theta[likelihood.NuIndex]) - 1;
        var runningOff = !better.Converged || Math.Abs(logGamma) > ExtremeLogGamma || kappaFound < 0.02 || kappaFound > 100;
        if (!runningOff)
        {
            best = ReferenceEquals(starter, likelihood) ? better : Maximize(likelihood, better.Theta, free, "APGW from a boundary probe", options.MaximumNumberOfIterations);
            return null;
        }
        var gammaWord = logGamma > best.Theta[likelihood.AlphaStart] ? "grows" : "falls";
        var kappaWord = kappaFound < Math.Exp(best.Theta[likelihood.NuIndex]) - 1 ? "falls" : "grows";
        var direction = $"gamma {gammaWord} and kappa {kappaWord}{(kappaFound < 0.05 ? " towards 0" : "")}";
        warn($"The likelihood has no interior maximum: it keeps rising towards the boundary of the APGW family as {direction} " +
                  $"(log-likelihood {best.LogLikelihood + logLikelihoodOffset:F3} at the reported estimates, {better.LogLikelihood + logLikelihoodOffset:F3} at gamma = {Math.Exp(logGamma):G3} " +
                  $"at the covariate means and kappa = {kappaFound:G3}, and still rising). The reported estimates are the best interior local maximum found, not the maximum " +
                  "likelihood estimate, which does not exist. The limiting model has almost no hazard before a threshold time 1/phi and a hazard of about lambda gamma / t " +
                  "after it (the Burr XII limit kappa -> 0 with gamma -> infinity): a degenerate fit. Fixing kappa (for example at 1, the Weibull) or fewer shape covariates " +
                  "gives an interior maximum.");
        return direction;
    }

    /// <summary>Damped Newton ascent over the free coordinates.</summary>
    private SolverOutcome Maximize(ChunkedSurvivalLikelihood likelihood, double[] start, bool[] free, string stage, int maxIterations)
    {
        var theta = (double[])start.Clone();
        var index = Enumerable.Range(0, theta.Length).Where(j => free[j]).ToArray();
        var dim = index.Length;
        var value = likelihood.Value(theta);
        if (double.IsNegativeInfinity(value))
        {
            throw new InvalidOperationException($"The {stage} starting point gives a non-finite log-likelihood.");
        }
        var damping = 1e-6;
        var iteration = 0;
        var converged = false;
        for (; iteration < maxIterations && !converged; iteration++)
        {
            monitor.Report(new TrainingProgress(stage, iteration + 1, maxIterations, value));
            var (_, gradient, hessian) = likelihood.Derivatives(theta);
            var g = index.Select(j => gradient[j]).ToArray();
            var accepted = false;
            while (damping < 1e12)
            {
                var matrix = new double[dim * dim];
                for (var a = 0; a < dim; a++)
                {
                    for (var b = 0; b < dim; b++) matrix[a * dim + b] = -hessian[index[a], index[b]];
                    matrix[a * dim + a] += damping * Math.Max(Math.Abs(matrix[a * dim + a]), 1e-8);
                }
                var step = (double[])g.Clone();
                if (!DenseLinearAlgebra.TrySolve(matrix, step, dim))
                {
                    damping *= 10;
                    continue;
                }
                var decrement = g.Zip(step, (x, y) => x * y).Sum();
                var trial = (double[])theta.Clone();
                for (var a = 0; a < dim; a++) trial[index[a]] += step[a];
                trial[likelihood.NuIndex] = Math.Clamp(trial[likelihood.NuIndex], NuLower, NuUpper);
                var trialValue = likelihood.Value(trial);
                if (trialValue >= value - 1e-12 * Math.Abs(value) && double.IsFinite(trialValue))
                {
                    // A heavily damped step is short whatever the gradient, so only a (nearly) undamped Newton step can show convergence.
                    converged = damping <= 1e-2 && decrement < 1e-10 * (1 + Math.Abs(value)) && trialValue - value < 1e-9 * (1 + Math.Abs(value));
                    theta = trial;
                    value = Math.Max(value, trialValue);
                    damping = Math.Max(damping / 10, 1e-12);
                    accepted = true;
                    break;
                }
                damping *= 10;
            }
            if (!accepted)
            {
                // No damped step improves the likelihood: at a maximum to numerical precision, or stuck.
                var g2 = g.Max(Math.Abs);
                converged = g2 < 1e-4 * Math.Max(1, Math.Sqrt(data.RowCount));
                break;
            }
        }
        return new SolverOutcome(theta, value, iteration, converged);
    }

    /// <summary>The inverse observed information over the free coordinates; NaN where it is singular.</summary>
    private static double[,] Covariance(double[,] hessian, bool[] free, Action<string> warn)
    {
        var dim = free.Length;
        var index = Enumerable.Range(0, dim).Where(j => free[j]).ToArray();
        var information = new double[index.Length * index.Length];
        for (var a = 0; a < index.Length; a++)
        {
            for (var b = 0; b < index.Length; b++) information[a * index.Length + b] = -hessian[index[a], index[b]];
        }
        var inverse = DenseLinearAlgebra.Inverse(information, index.Length);
        var covariance = new double[dim, dim];
        for (var a = 0; a < index.Length; a++)
        {
            for (var b = 0; b < index.Length; b++)
            {
                covariance[index[a], index[b]] = inverse?[a * index.Length + b] ?? double.NaN;
            }
        }
        if (inverse is null)
        {
            warn("The observed information is singular or not positive definite (a parameter is not identified): standard errors are NaN.");
        }
        return covariance;
    }

    /// <summary>
    /// From the internal scale (time / c, standardised covariates) to the original one: slopes b_j = b~_j / s_j,
    /// intercepts b0 = b~0 - sum m_j b~_j / s_j, tau0 -= log c (or, with tau0 fixed, beta0 -= gamma log c); covariance J V J'.
    /// </summary>
    private static (double[] Theta, double[,] Covariance) MapBack(double[] scaled, double[,] covariance, bool[] free, ChunkedSurvivalLikelihood l, double c,
        double[] aftMean, double[] aftSd, double[] phMean, double[] phSd, double[] shapeMean, double[] shapeSd)
    {
        var dim = scaled.Length;
        var jacobian = new double[dim, dim];
        jacobian[l.NuIndex, l.NuIndex] = 1;
        foreach (var (start, mean, sd) in new[] { (l.TauStart, aftMean, aftSd), (l.BetaStart, phMean, phSd), (l.AlphaStart, shapeMean, shapeSd) })
        {
            jacobian[start, start] = 1;
            for (var j = 0; j < mean.Length; j++)
            {
                jacobian[start + 1 + j, start + 1 + j] = 1 / sd[j];
                jacobian[start, start + 1 + j] = -mean[j] / sd[j];
            }
        }
        var theta = new double[dim];
        for (var i = 0; i < dim; i++)
        {
            for (var k = 0; k < dim; k++) theta[i] += jacobian[i, k] * scaled[k];
        }
        if (free[l.TauStart])
        {
            theta[l.TauStart] -= Math.Log(c);
        }
        else if (l.ShapeCount == 0)
        {
            var gamma = Math.Exp(theta[l.AlphaStart]);
            theta[l.BetaStart] -= gamma * Math.Log(c);
            for (var k = 0; k < dim; k++) jacobian[l.BetaStart, k] -= gamma * Math.Log(c) * jacobian[l.AlphaStart, k];
        }
        var mapped = new double[dim, dim];
        for (var i = 0; i < dim; i++)
        {
            for (var j = 0; j < dim; j++)
            {
                var sum = 0.0;
                for (var a = 0; a < dim; a++)
                {
                    if (jacobian[i, a] == 0) continue;
                    for (var b = 0; b < dim; b++) sum += jacobian[i, a] * covariance[a, b] * jacobian[j, b];
                }
                mapped[i, j] = sum;
            }
        }
        return (theta, mapped);
    }

    private (double[] Mean, double[] Sd) Standardisation(CovariateMatrix matrix, string set)
    {
        var (mean, sd) = Data.Standardisation.Compute(matrix.Values, matrix.Width, data.Weight, null, out var constant);
        if (constant.Count > 0)
        {
            var j = constant[0];
            throw new ArgumentException($"The {set} feature '{matrix.Names[j]}' is constant (every row is {mean[j]}); remove it.", matrix.Names[j]);
        }
        return (mean, sd);
    }

    /// <summary>The standardised covariates as a [rows, p] tensor over the matrix's own array (standardised in place).</summary>
    private Tensor Matrix(CovariateMatrix matrix, double[] mean, double[] sd)
    {
        if (matrix.Width == 0) return zeros(data.RowCount, 0, ScalarType.Float64, device);
        using var center = tensor(mean, ScalarType.Float64, device);
        using var scale = tensor(sd, ScalarType.Float64, device);
        return TensorCopy.Adopt(matrix.Values, device, data.RowCount, matrix.Width).sub_(center).div_(scale);
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
