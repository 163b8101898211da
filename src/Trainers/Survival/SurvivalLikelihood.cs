using Microsoft.ML.PaperExtensions.Runtime;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Survival;

/// <summary>
/// The APGW multi-parameter regression log-likelihood in float64 tensors, with right censoring, left truncation and
/// row weights: <c>l = sum_i w_i [delta_i log h(t_i) - H(t_i) + H(entry_i)]</c>, with
/// <c>log phi = tau0 + w'tau</c>, <c>log lambda = beta0 + x'beta</c>, <c>log gamma = alpha0 + v'alpha</c>, <c>kappa = e^nu - 1</c>.
/// Parameters are one vector theta = [tau0, tau.., beta0, beta.., alpha0, alpha.., nu]. Derivatives come from autograd
/// (<see cref="Derivatives"/>); <see cref="Hessian"/> by central differences of the gradient is kept as an independent check.
/// </summary>
internal sealed class SurvivalLikelihood : IDisposable
{
    private readonly Tensor _logTime, _logEntry, _truncated, _event, _weight, _aft, _ph, _shape;
    private readonly bool _gompertz;
    private readonly bool _anyTruncated;

    /// <param name="logTime">log of the (scaled) observed times, [n].</param>
    /// <param name="logEntry">log of the (scaled) entry times, [n]; ignored where <paramref name="truncated"/> is 0.</param>
    /// <param name="truncated">1 where the row entered late (left truncation), else 0, [n].</param>
    /// <param name="isEvent">1 for an event, 0 for censoring, [n].</param>
    /// <param name="weight">Row weights, [n].</param>
    /// <param name="aft">Standardised AFT covariates [n, pA] (may have 0 columns).</param>
    /// <param name="ph">Standardised PH covariates [n, pP].</param>
    /// <param name="shape">Standardised shape covariates [n, pS].</param>
    /// <param name="gompertz">The Gompertz limit kappa = +infinity: H0 = e^z - 1 (nu unused).</param>
    public SurvivalLikelihood(Tensor logTime, Tensor logEntry, Tensor truncated, Tensor isEvent, Tensor weight, Tensor aft, Tensor ph, Tensor shape, bool gompertz)
    {
        (_logTime, _logEntry, _truncated, _event, _weight, _aft, _ph, _shape) =
            (Keep(logTime), Keep(logEntry), Keep(truncated), Keep(isEvent), Keep(weight), Keep(aft), Keep(ph), Keep(shape));
        _gompertz = gompertz;
        _anyTruncated = truncated.sum().item<double>() > 0;
        AftCount = (int)aft.shape[1];
        PhCount = (int)ph.shape[1];
        ShapeCount = (int)shape.shape[1];
    }

    public int AftCount { get; }

    public int PhCount { get; }

    public int ShapeCount { get; }

    /// <summary>Index of tau0, beta0, alpha0 and nu in theta.</summary>
    public int TauStart => 0;

    public int BetaStart => 1 + AftCount;

    public int AlphaStart => BetaStart + 1 + PhCount;

    public int NuIndex => AlphaStart + 1 + ShapeCount;

    public int ParameterCount => NuIndex + 1;

    /// <summary>The log-likelihood; -infinity where it is not finite.</summary>
    public double Value(double[] theta)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var value = LogLikelihood(Parameters(theta, false)).item<double>();
        return double.IsFinite(value) ? value : double.NegativeInfinity;
    }

    /// <summary>The log-likelihood and its gradient.</summary>
    public (double Value, double[] Gradient) ValueAndGradient(double[] theta)
    {
        using var scope = NewDisposeScope();
        var parameters = Parameters(theta, true);
        var value = LogLikelihood(parameters);
        value.backward();
        return (value.item<double>(), TensorCopy.ToArray(parameters.grad!));
    }

    /// <summary>The Hessian over the free coordinates (others are zero rows and columns), by central differences of the gradient.</summary>
    public double[,] Hessian(double[] theta, bool[] free)
    {
        var dim = theta.Length;
        var hessian = new double[dim, dim];
        for (var j = 0; j < dim; j++)
        {
            if (!free[j]) continue;
            var step = 1e-5 * Math.Max(1, Math.Abs(theta[j]));
            var up = (double[])theta.Clone();
            var down = (double[])theta.Clone();
            up[j] += step;
            down[j] -= step;
            var gUp = ValueAndGradient(up).Gradient;
            var gDown = ValueAndGradient(down).Gradient;
            for (var i = 0; i < dim; i++)
            {
                if (free[i]) hessian[i, j] = (gUp[i] - gDown[i]) / (2 * step);
            }
        }
        for (var i = 0; i < dim; i++)
        {
            for (var j = 0; j < i; j++)
            {
                hessian[i, j] = hessian[j, i] = (hessian[i, j] + hessian[j, i]) / 2;
            }
        }
        return hessian;
    }

    private Tensor Parameters(double[] theta, bool requiresGrad) =>
        tensor(theta, ScalarType.Float64, _logTime.device, requires_grad: requiresGrad);

    private Tensor LogLikelihood(Tensor theta)
    {
        var (etaPhi, etaLambda, etaGamma) = Predictors(theta);
        return RowLogLikelihood(etaPhi, etaLambda, etaGamma, theta[NuIndex], theta[NuIndex].item<double>()).sum();
    }

    private (Tensor Phi, Tensor Lambda, Tensor Gamma) Predictors(Tensor theta) =>
        (Linear(theta, TauStart, AftCount, _aft), Linear(theta, BetaStart, PhCount, _ph), Linear(theta, AlphaStart, ShapeCount, _shape));

    /// <summary>Each row's weighted log-likelihood as a function of its linear predictors (nu may be per row or scalar).</summary>
    private Tensor RowLogLikelihood(Tensor etaPhi, Tensor etaLambda, Tensor etaGamma, Tensor nu, double nuValue)
    {
        var gamma = etaGamma.exp();
        var lambda = etaLambda.exp();
        var logZ = gamma * (etaPhi + _logTime);
        var (logBaselineHazard, baselineCumulative) = Baseline(logZ.exp(), nu, nuValue);
        var logHazard = etaLambda + etaGamma + logZ - _logTime + logBaselineHazard;
        var rowValue = _event * logHazard - lambda * baselineCumulative;
        if (_anyTruncated)
        {
            // Left truncation: + H(entry), only for rows that entered late.
            var entryZ = (gamma * (etaPhi + _logEntry)).exp() * _truncated;
            var (_, entryCumulative) = Baseline(entryZ, nu, nuValue);
            rowValue = rowValue + lambda * entryCumulative * _truncated;
        }
        return _weight * rowValue;
    }

    /// <summary>
    /// The log-likelihood, its gradient and its exact Hessian. Each row depends on theta only through its three linear
    /// predictors and nu, so autograd gives every row's 4 x 4 Hessian in four backward passes, and the Hessian in theta
    /// is the sum of design-weighted blocks D_a' diag(h_ab) D_b (one small matrix product per block).
    /// </summary>
    public (double Value, double[] Gradient, double[,] Hessian) Derivatives(double[] theta)
    {
        using var scope = NewDisposeScope();
        var parameters = Parameters(theta, false);
        var (etaPhi, etaLambda, etaGamma) = Predictors(parameters);
        var n = etaPhi.shape[0];
        var columns = stack([etaPhi, etaLambda, etaGamma, full(n, theta[NuIndex], ScalarType.Float64, _logTime.device)], 1).requires_grad_(true);
        var total = RowLogLikelihood(columns[.., 0], columns[.., 1], columns[.., 2], columns[.., 3], theta[NuIndex]).sum();
        var first = autograd.grad([total], [columns], retain_graph: true, create_graph: true, allow_unused: true)[0];
        var components = _gompertz ? 3 : 4;
        var second = new Tensor[components];
        for (var k = 0; k < components; k++)
        {
            second[k] = autograd.grad([first[.., k].sum()], [columns], retain_graph: true, allow_unused: true)[0].detach();
        }
        first = first.detach();

        var designs = new[] { Design(_aft), Design(_ph), Design(_shape), ones(n, 1, ScalarType.Float64, _logTime.device) };
        var starts = new[] { TauStart, BetaStart, AlphaStart, NuIndex };
        var dim = ParameterCount;
        var gradient = new double[dim];
        var hessian = new double[dim, dim];
        for (var a = 0; a < components; a++)
        {
            var g = TensorCopy.ToArray(designs[a].t().matmul(first[.., a]));
            Array.Copy(g, 0, gradient, starts[a], g.Length);
            for (var b = a; b < components; b++)
            {
                var block = TensorCopy.ToArray(designs[a].t().matmul(designs[b] * second[a][.., b].unsqueeze(1)));
                int rows = (int)designs[a].shape[1], cols = (int)designs[b].shape[1];
                for (var i = 0; i < rows; i++)
                {
                    for (var j = 0; j < cols; j++)
                    {
                        hessian[starts[a] + i, starts[b] + j] = block[i * cols + j];
                        hessian[starts[b] + j, starts[a] + i] = block[i * cols + j];
                    }
                }
            }
        }
        return (total.item<double>(), gradient, hessian);
    }

    private Tensor Design(Tensor covariates) => cat([ones(covariates.shape[0], 1, ScalarType.Float64, _logTime.device), covariates], 1);

    /// <summary>log h0(z) and H0(z) for the current kappa (a scalar), stable near kappa = 0.</summary>
    private (Tensor LogHazard, Tensor Cumulative) Baseline(Tensor z, Tensor nu, double nuValue)
    {
        if (_gompertz)
        {
            return (z, z.expm1());
        }
        var kappa = nu.exp() - 1;
        var l = (z / (kappa + 1)).log1p();
        var x = kappa * l;
        // E = expm1(kappa L) / kappa; near kappa = 0 its series (the branch is chosen on the scalar kappa, so autograd
        // never differentiates a 0/0 branch).
        var e = Math.Abs(Math.Exp(nuValue) - 1) < 1e-6
            ? l * (1 + x / 2 + x.square() / 6 + x.pow(3) / 24)
            : x.expm1() / kappa;
        return ((kappa - 1) * l, (kappa + 1) * e);
    }

    private static Tensor Linear(Tensor theta, int start, int count, Tensor covariates) =>
        count == 0 ? theta[start].expand(covariates.shape[0]) : theta[start] + covariates.matmul(theta[(start + 1)..(start + 1 + count)]);

    private static Tensor Keep(Tensor t) => t.alias().DetachFromDisposeScope();

    public void Dispose()
    {
        foreach (var t in new[] { _logTime, _logEntry, _truncated, _event, _weight, _aft, _ph, _shape }) t.Dispose();
    }
}
