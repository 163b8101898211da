using Microsoft.ML.PaperExtensions.Runtime;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Survival;

/// <summary>
/// The APGW multi-parameter regression log-likelihood in float64 tensors, with right censoring, left truncation and
/// row weights: <c>l = sum_i w_i [delta_i log h(t_i) - H(t_i) + H(entry_i)]</c>, with
/// <c>log phi = tau0 + w'tau</c>, <c>log lambda = beta0 + x'beta</c>, <c>log gamma = alpha0 + v'alpha</c>, <c>kappa = e^nu - 1</c>.
/// Parameters are one vector theta = [tau0, tau.., beta0, beta.., alpha0, alpha.., nu]. <see cref="Derivatives"/> gives the
/// gradient and Hessian in closed form; the autograd gradient and the finite-difference Hessian are independent checks.
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

    /// <summary>The log-likelihood and its gradient by autograd: the independent check of <see cref="Derivatives"/> in the tests.</summary>
    public (double Value, double[] Gradient) ValueAndGradient(double[] theta)
    {
        using var scope = NewDisposeScope();
        var parameters = Parameters(theta, true);
        var value = LogLikelihood(parameters);
        value.backward();
        return (value.item<double>(), TensorCopy.ToArray(parameters.grad!));
    }

    /// <summary>The Hessian over the free coordinates by central differences of the autograd gradient: the tests' independent check of <see cref="Derivatives"/>.</summary>
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
    /// The log-likelihood, its gradient and its Hessian in closed form. Each row depends on theta only through its
    /// linear predictors a = log phi, b = log lambda, c = log gamma and the scalar nu, so the per-row derivatives in
    /// (a, b, c) are formulas (below) and the Hessian in theta is a few design-weighted matrix products D_a' diag(h_ab) D_b.
    /// The nu column comes from the closed-form nu gradient (the spec's formula) and central differences of the (a, b, c, nu)
    /// gradients in nu. <see cref="ValueAndGradient"/> (autograd) and <see cref="Hessian"/> (finite differences) check it.
    /// </summary>
    public (double Value, double[] Gradient, double[,] Hessian) Derivatives(double[] theta)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var parameters = Parameters(theta, false);
        var (a, b, c) = Predictors(parameters);
        var nu = theta[NuIndex];
        var value = RowLogLikelihood(a, b, c, parameters[NuIndex], nu).sum().item<double>();
        var at = RowDerivatives(a, b, c, nu, second: true);

        var n = a.shape[0];
        var designs = new[] { Design(_aft), Design(_ph), Design(_shape) };
        var starts = new[] { TauStart, BetaStart, AlphaStart };
        var dim = ParameterCount;
        var gradient = new double[dim];
        var hessian = new double[dim, dim];
        Tensor[] first = [at.Ga, at.Gb, at.Gc];
        Tensor[,] second = { { at.Haa!, at.Hab!, at.Hac! }, { at.Hab!, at.Hbb!, at.Hbc! }, { at.Hac!, at.Hbc!, at.Hcc! } };
        for (var i = 0; i < 3; i++)
        {
            Place(gradient, starts[i], TensorCopy.ToArray(designs[i].t().matmul(first[i] * _weight)));
            for (var j = i; j < 3; j++)
            {
                Place(hessian, starts[i], starts[j], designs[i], designs[j], second[i, j] * _weight);
            }
        }
        if (!_gompertz)
        {
            gradient[NuIndex] = (at.Gnu! * _weight).sum().item<double>();
            const double h = 1e-5;
            using var nuScope = NewDisposeScope();
            var up = RowDerivatives(a, b, c, nu + h, second: false);
            var down = RowDerivatives(a, b, c, nu - h, second: false);
            Tensor[] mixed = [(up.Ga - down.Ga) / (2 * h), (up.Gb - down.Gb) / (2 * h), (up.Gc - down.Gc) / (2 * h)];
            for (var i = 0; i < 3; i++)
            {
                var column = TensorCopy.ToArray(designs[i].t().matmul(mixed[i] * _weight));
                for (var k = 0; k < column.Length; k++) hessian[starts[i] + k, NuIndex] = hessian[NuIndex, starts[i] + k] = column[k];
            }
            hessian[NuIndex, NuIndex] = ((up.Gnu! - down.Gnu!) / (2 * h) * _weight).sum().item<double>();
        }
        return (value, gradient, hessian);
    }

    private static void Place(double[] target, int start, double[] values) => Array.Copy(values, 0, target, start, values.Length);

    private static void Place(double[,] hessian, int rowStart, int columnStart, Tensor left, Tensor right, Tensor weights)
    {
        var block = TensorCopy.ToArray(left.t().matmul(right * weights.unsqueeze(1)));
        int rows = (int)left.shape[1], cols = (int)right.shape[1];
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < cols; j++)
            {
                hessian[rowStart + i, columnStart + j] = block[i * cols + j];
                hessian[columnStart + j, rowStart + i] = block[i * cols + j];
            }
        }
    }

    /// <summary>Per-row derivatives of the unweighted log-likelihood (optionally with the (a, b, c) second derivatives).</summary>
    private sealed record RowTerms(Tensor Ga, Tensor Gb, Tensor Gc, Tensor? Gnu, Tensor? Haa, Tensor? Hab, Tensor? Hac, Tensor? Hbb, Tensor? Hbc, Tensor? Hcc);

    /// <summary>Per-row terms, computed in their own dispose scope so that only the results outlive the call.</summary>
    private RowTerms RowDerivatives(Tensor a, Tensor b, Tensor c, double nu, bool second)
    {
        using var scope = NewDisposeScope();
        var result = RowDerivativesCore(a, b, c, nu, second);
        foreach (var t in new[] { result.Ga, result.Gb, result.Gc, result.Gnu, result.Haa, result.Hab, result.Hac, result.Hbb, result.Hbc, result.Hcc }.OfType<Tensor>())
        {
            t.MoveToOuterDisposeScope();
        }
        return result;
    }

    private RowTerms RowDerivativesCore(Tensor a, Tensor b, Tensor c, double nu, bool second)
    {
        var main = Terms(a, b, c, nu, _logTime, _event, second);
        if (!_anyTruncated) return main;
        // + lambda H0(z_entry) on truncated rows: the derivatives of the delta = 0 term, negated.
        var entry = Terms(a, b, c, nu, _logEntry, zeros_like(_event), second);
        Tensor Minus(Tensor x, Tensor? y) => y is null ? x : x - y * _truncated;
        Tensor? MinusOptional(Tensor? x, Tensor? y) => x is null ? null : Minus(x, y);
        return new RowTerms(Minus(main.Ga, entry.Ga), Minus(main.Gb, entry.Gb), Minus(main.Gc, entry.Gc), MinusOptional(main.Gnu, entry.Gnu),
            MinusOptional(main.Haa, entry.Haa), MinusOptional(main.Hab, entry.Hab), MinusOptional(main.Hac, entry.Hac),
            MinusOptional(main.Hbb, entry.Hbb), MinusOptional(main.Hbc, entry.Hbc), MinusOptional(main.Hcc, entry.Hcc));
    }

    /// <summary>
    /// Derivatives of delta log h(t) - lambda H0(z) per row. With log z = gamma (a + log t), u = z / (kappa + 1),
    /// r = u / (1 + u), L = log1p(u), Q = lambda z h0(z), M1 = (kappa - 1) r and M2 = (kappa - 1) r (1 - r) (Gompertz: M1 = M2 = z):
    /// A = delta (1 + M1) - Q; d/da = gamma A, d/db = delta - lambda H0, d/dc = delta + log z A;
    /// with T = delta M2 - Q (1 + M1): H_aa = gamma^2 T, H_ab = -gamma Q, H_ac = gamma A + gamma log z T, H_bb = -lambda H0,
    /// H_bc = -Q log z, H_cc = log z A + (log z)^2 T.
    /// </summary>
    private RowTerms Terms(Tensor a, Tensor b, Tensor c, double nu, Tensor logTime, Tensor delta, bool second)
    {
        var gamma = c.exp();
        var lambda = b.exp();
        var logZ = gamma * (a + logTime);
        var z = logZ.exp();
        Tensor cumulative, q, m1, m2;
        Tensor? gNu = null;
        if (_gompertz)
        {
            cumulative = lambda * z.expm1();
            q = lambda * z * z.exp();
            m1 = z;
            m2 = z;
        }
        else
        {
            var k1 = Math.Exp(nu);
            var kappa = k1 - 1;
            var u = z / k1;
            var r = u / (1 + u);
            var l = u.log1p();
            var x = l * kappa;
            var smallKappa = Math.Abs(kappa) < 1e-6;
            var e = smallKappa ? l * (1 + x / 2 + x.square() / 6 + x.pow(3) / 24) : x.expm1() / kappa;
            cumulative = lambda * k1 * e;
            q = lambda * z * (l * (kappa - 1)).exp();
            m1 = r * (kappa - 1);
            m2 = m1 * (1 - r);
            // d/dnu = (kappa + 1) d/dkappa: delta (L + (kappa - 1) dL) - lambda dH0, dL = -z / ((kappa + 1)(kappa + 1 + z)),
            // dH0 = E + (kappa + 1) (L^2 g(x) + e^x dL), g(x) = (x e^x - expm1(x)) / x^2 (series 1/2 + x/3 + x^2/8 near 0).
            var dL = -z / (k1 * (k1 + z));
            var g = smallKappa
                ? 0.5 + x / 3 + x.square() / 8
                : where(x.abs() < 1e-4, 0.5 + x / 3 + x.square() / 8, (x * x.exp() - x.expm1()) / x.square().clamp_min(1e-300));
            var dH0 = e + k1 * (l.square() * g + x.exp() * dL);
            gNu = k1 * (delta * (l + (kappa - 1) * dL) - lambda * dH0);
        }
        var A = delta * (1 + m1) - q;
        var ga = gamma * A;
        var gb = delta - cumulative;
        var gc = delta + logZ * A;
        if (!second)
        {
            return new RowTerms(ga, gb, gc, gNu, null, null, null, null, null, null);
        }
        var t = delta * m2 - q * (1 + m1);
        return new RowTerms(ga, gb, gc, gNu,
            gamma.square() * t, -gamma * q, gamma * A + gamma * logZ * t, -cumulative, -q * logZ, logZ * A + logZ.square() * t);
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
