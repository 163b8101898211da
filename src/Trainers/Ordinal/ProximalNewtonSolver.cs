using Microsoft.ML.PaperExtensions.Numerics;
using Microsoft.ML.PaperExtensions.Runtime;

namespace Microsoft.ML.PaperExtensions.Ordinal;

/// <summary>How one penalised fit is set up.</summary>
/// <param name="Lambda">Penalty strength lambda (&gt;= 0).</param>
/// <param name="Mixing">Elastic-net mixing a: 1 = lasso (PRESTO), 0 = ridge.</param>
/// <param name="PenaltyFactor">Per coordinate of phi: 0 = unpenalised (intercepts), else the factor c.</param>
/// <param name="Fixed">Per coordinate: true = held at its start value (for example the differences of a proportional-odds fit).</param>
internal sealed record PenaltySettings(double Lambda, double Mixing, double[] PenaltyFactor, bool[] Fixed)
{
    /// <summary>lambda * sum c (a |u| + (1 - a) / 2 u^2) over penalised coordinates.</summary>
    public double Penalty(ReadOnlySpan<double> phi)
    {
        var sum = 0.0;
        for (var j = 0; j < phi.Length; j++)
        {
            sum += PenaltyFactor[j] * (Mixing * Math.Abs(phi[j]) + (1 - Mixing) / 2 * phi[j] * phi[j]);
        }
        return Lambda * sum;
    }

    /// <summary>The largest violation of the optimality (KKT) conditions at <paramref name="phi"/>, given the likelihood gradient there.</summary>
    public double KktViolation(ReadOnlySpan<double> phi, ReadOnlySpan<double> gradient)
    {
        var worst = 0.0;
        for (var j = 0; j < phi.Length; j++)
        {
            if (Fixed[j]) continue;
            var c = Lambda * PenaltyFactor[j];
            var violation = c == 0 ? Math.Abs(gradient[j])
                : phi[j] != 0 ? Math.Abs(gradient[j] + c * (Mixing * Math.Sign(phi[j]) + (1 - Mixing) * phi[j]))
                : Math.Max(0, Math.Abs(gradient[j]) - c * Mixing);
            worst = Math.Max(worst, violation);
        }
        return worst;
    }
}

/// <summary>The result of one fit on the standardised scale.</summary>
internal sealed record SolverResult(double[] Phi, double NegativeLogLikelihood, double Objective, int Iterations, bool Converged, double KktViolation);

/// <summary>
/// Proximal Newton for the penalised cumulative logit (ordinalNet's MIRLS uses the expected information; the exact
/// Hessian converges faster near crossing rows): each outer step forms the quadratic model of the likelihood from the
/// gradient and the Hessian (bulk tensor work over the rows),
/// minimises it plus the elastic-net penalty by cyclic coordinate descent with soft-thresholding (small, dense,
/// managed), then halves the step until the penalised objective decreases and every training row keeps a positive
/// probability of its class. It stops when the KKT conditions hold to <see cref="KktTolerance"/>.
/// </summary>
internal static class ProximalNewtonSolver
{
    /// <summary>The outer loop stops when the largest KKT violation (standardised scale) is below this.</summary>
    public const double KktTolerance = 1e-8;

    /// <summary>A fit that stops short of <see cref="KktTolerance"/> (no further descent) still counts as converged below this.</summary>
    public const double AcceptedKktViolation = 1e-6;
    private const int MaxOuterIterations = 200;
    private const int MaxSweeps = 200;

    /// <summary>Sweeps stop when no coordinate moves the quadratic model by more than about this (h * delta^2).</summary>
    private const double SweepTolerance = 1e-16;
    private const double Armijo = 1e-4;

    public static SolverResult Solve(CumulativeLogitProblem problem, double[] start, PenaltySettings penalty, CancellationToken cancellationToken)
    {
        var phi = (double[])start.Clone();
        var nll = problem.NegativeLogLikelihood(phi);
        if (double.IsPositiveInfinity(nll))
        {
            throw new InvalidOperationException("The starting point gives a training row a non-positive probability of its class.");
        }
        var objective = nll + penalty.Penalty(phi);
        var kkt = double.PositiveInfinity;
        var iteration = 0;
        for (; iteration < MaxOuterIterations; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TorchFinalizerGate.SafePoint();
            var (value, gradient, hessian) = problem.Quadratic(phi);
            nll = value;
            kkt = penalty.KktViolation(phi, gradient);
            if (kkt <= KktTolerance)
            {
                break;
            }
            var target = CoordinateDescent(phi, gradient, hessian, penalty);
            target = SolveOnActiveSet(phi, target, gradient, hessian, penalty) ?? target;
            var direction = new double[phi.Length];
            var predicted = penalty.Penalty(target) - penalty.Penalty(phi);
            for (var j = 0; j < phi.Length; j++)
            {
                direction[j] = target[j] - phi[j];
                predicted += gradient[j] * direction[j];
            }
            if (predicted >= 0)
            {
                break; // the model sees no descent: at the optimum to numerical precision
            }
            var accepted = false;
            var trial = new double[phi.Length];
            for (var step = 1.0; step > 1e-12; step /= 2)
            {
                for (var j = 0; j < phi.Length; j++) trial[j] = phi[j] + step * direction[j];
                var trialNll = problem.NegativeLogLikelihood(trial);
                var trialObjective = trialNll + penalty.Penalty(trial);
                if (trialObjective <= objective + Armijo * step * predicted)
                {
                    (phi, trial) = (trial, phi);
                    nll = trialNll;
                    objective = trialObjective;
                    accepted = true;
                    break;
                }
            }
            if (!accepted)
            {
                break;
            }
        }
        if (iteration > 0 && kkt > KktTolerance)
        {
            kkt = penalty.KktViolation(phi, problem.Quadratic(phi).Gradient);
        }
        return new SolverResult(phi, nll, objective, iteration, kkt <= AcceptedKktViolation, kkt);
    }

    /// <summary>Minimises g'd + d'Hd/2 + penalty(phi + d) over the free coordinates; returns phi + d.</summary>
    private static double[] CoordinateDescent(double[] phi, double[] gradient, double[] hessian, PenaltySettings penalty)
    {
        var dim = phi.Length;
        var x = (double[])phi.Clone();
        var residual = (double[])gradient.Clone(); // gradient of the quadratic model at x
        for (var sweep = 0; sweep < MaxSweeps; sweep++)
        {
            var largest = 0.0;
            for (var j = 0; j < dim; j++)
            {
                var h = hessian[j * dim + j];
                if (penalty.Fixed[j] || h <= 0) continue;
                var c = penalty.Lambda * penalty.PenaltyFactor[j];
                var newton = x[j] - residual[j] / h;
                var updated = c == 0 ? newton : SoftThreshold(h * newton, c * penalty.Mixing) / (h + c * (1 - penalty.Mixing));
                var delta = updated - x[j];
                if (delta == 0) continue;
                var row = hessian.AsSpan(j * dim, dim);
                for (var i = 0; i < dim; i++) residual[i] += delta * row[i];
                x[j] = updated;
                largest = Math.Max(largest, h * delta * delta);
            }
            if (largest < SweepTolerance)
            {
                break;
            }
        }
        return x;
    }

    /// <summary>
    /// Coordinate descent finds the active set and signs quickly but converges slowly on an ill-conditioned Hessian
    /// (correlated dummies, small lambda). With the active set A and signs s fixed, the model's minimiser solves
    /// (H_AA + lambda (1 - a) C_A) y_A = H_A. phi - g_A - lambda a C_A s_A, one small Cholesky solve. It is accepted when
    /// the signs hold and no inactive coordinate violates its optimality condition; otherwise null keeps the sweeps' result.
    /// </summary>
    private static double[]? SolveOnActiveSet(double[] phi, double[] sweeps, double[] gradient, double[] hessian, PenaltySettings penalty)
    {
        var dim = phi.Length;
        var active = Enumerable.Range(0, dim).Where(j => !penalty.Fixed[j] && hessian[j * dim + j] > 0 && (sweeps[j] != 0 || penalty.PenaltyFactor[j] == 0)).ToArray();
        var size = active.Length;
        if (size == 0) return null;
        var matrix = new double[size * size];
        var rhs = new double[size];
        for (var a = 0; a < size; a++)
        {
            var j = active[a];
            var c = penalty.Lambda * penalty.PenaltyFactor[j];
            var hPhi = 0.0;
            for (var k = 0; k < dim; k++) hPhi += hessian[j * dim + k] * phi[k];
            rhs[a] = hPhi - gradient[j] - c * penalty.Mixing * Math.Sign(sweeps[j]);
            for (var b = 0; b < size; b++) matrix[a * size + b] = hessian[j * dim + active[b]];
            matrix[a * size + a] += c * (1 - penalty.Mixing);
        }
        if (!DenseLinearAlgebra.TrySolve(matrix, rhs, size)) return null;
        var solution = new double[dim];
        for (var a = 0; a < size; a++)
        {
            var j = active[a];
            if (penalty.PenaltyFactor[j] > 0 && Math.Sign(rhs[a]) != Math.Sign(sweeps[j])) return null;
            solution[j] = rhs[a];
        }
        for (var j = 0; j < dim; j++)
        {
            if (penalty.Fixed[j]) solution[j] = phi[j];
        }
        // Inactive coordinates must satisfy |g_j + (H (y - phi))_j| <= lambda a c_j at the solution.
        for (var j = 0; j < dim; j++)
        {
            if (penalty.Fixed[j] || solution[j] != 0 || active.Contains(j)) continue;
            var r = gradient[j];
            for (var k = 0; k < dim; k++) r += hessian[j * dim + k] * (solution[k] - phi[k]);
            if (Math.Abs(r) > penalty.Lambda * penalty.PenaltyFactor[j] * penalty.Mixing + 1e-12) return null;
        }
        return solution;
    }

    private static double SoftThreshold(double z, double g) => Math.Sign(z) * Math.Max(Math.Abs(z) - g, 0);
}
