using Microsoft.ML.PaperExtensions.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Ordinal;

/// <summary>
/// The non-parallel cumulative logit likelihood on standardised features, in float64 tensors:
/// <c>eta_k = alpha_k + x' beta_k</c>, <c>P(Y &lt;= k) = sigmoid(eta_k)</c>, with <c>beta_k = psi_1 + ... + psi_k</c>.
/// Parameters are one vector <c>phi</c> laid out as [boundary k][0 = alpha_k, 1..p = psi_k], boundaries k = 0..K-2.
/// </summary>
internal sealed class CumulativeLogitProblem : IDisposable
{
    private readonly Tensor _x;        // [n, p] standardised features
    private readonly Tensor _xa;       // [n, p+1] with a leading column of ones
    private readonly Tensor _y;        // [n] class index, int64
    private readonly Tensor _weight;   // [n] row weight / sum of weights
    private readonly Tensor _upper;    // [n, K-1] 1 where y == k
    private readonly Tensor _lower;    // [n, K-1] 1 where y == k+1

    public CumulativeLogitProblem(Tensor standardisedFeatures, long[] classes, double[] weights, int classCount)
    {
        RowCount = (int)standardisedFeatures.shape[0];
        FeatureCount = (int)standardisedFeatures.shape[1];
        ClassCount = classCount;
        var n = RowCount;
        _x = standardisedFeatures.alias().DetachFromDisposeScope();
        using var scope = NewDisposeScope();
        var device = _x.device;
        _xa = cat([ones(n, 1, ScalarType.Float64, device), _x], 1).DetachFromDisposeScope();
        _y = tensor(classes, ScalarType.Int64, device).DetachFromDisposeScope();
        var w = tensor(weights, ScalarType.Float64, device);
        _weight = (w / w.sum()).DetachFromDisposeScope();
        var oneHot = nn.functional.one_hot(_y, classCount).to_type(ScalarType.Float64);
        _upper = oneHot[.., ..(classCount - 1)].contiguous().DetachFromDisposeScope();
        _lower = oneHot[.., 1..].contiguous().DetachFromDisposeScope();
    }

    public int RowCount { get; }

    public int FeatureCount { get; }

    public int ClassCount { get; }

    /// <summary>Boundaries, K - 1.</summary>
    public int BoundaryCount => ClassCount - 1;

    /// <summary>Length of <c>phi</c>.</summary>
    public int ParameterCount => BoundaryCount * (FeatureCount + 1);

    /// <summary>Mean weighted negative log-likelihood; +infinity when a row's class has probability &lt;= 0 (crossing).</summary>
    public double NegativeLogLikelihood(ReadOnlySpan<double> phi)
    {
        using var scope = NewDisposeScope();
        var logp = LogProbabilityOfObserved(Eta(phi));
        var value = -(logp * _weight).sum().item<double>();
        return double.IsNaN(value) ? double.PositiveInfinity : value;
    }

    /// <summary>
    /// The mean negative log-likelihood, its gradient in <c>phi</c>, and its Hessian in <c>phi</c> as a dense row-major
    /// matrix. The cumulative logit log-likelihood is concave in eta, so the Hessian is positive semi-definite and the
    /// Newton model is exact to second order (ordinalNet's Fisher scoring converges only linearly near crossing rows).
    /// </summary>
    public (double Value, double[] Gradient, double[] Hessian) Quadratic(ReadOnlySpan<double> phi)
    {
        using var scope = NewDisposeScope();
        int m = BoundaryCount, q = FeatureCount + 1, k = ClassCount;
        var eta = Eta(phi);
        var logp = LogProbabilityOfObserved(eta);
        var value = -(logp * _weight).sum().item<double>();

        // Per row, p = sigmoid(u) - sigmoid(l) with u = eta_y (upper) and l = eta_{y-1} (lower); r = f / p for each side,
        // in stable form for the end classes (y = 0: r_u = 1 - sigmoid(u); y = K-1: r_l = sigmoid(l)).
        var (upperEta, lowerEta) = Bounds(eta);
        var sU = sigmoid(upperEta);
        var sL = sigmoid(lowerEta);
        var p = logp.exp().clamp_min(1e-300);
        var rU = where(_y == 0, 1 - sU, sU * (1 - sU) / p);
        var rL = where(_y == k - 1, sL, sL * (1 - sL) / p);
        // -log p: d/du = -r_u, d/dl = r_l; d2/du2 = r_u^2 - (1 - 2 s_u) r_u, d2/dl2 = r_l^2 + (1 - 2 s_l) r_l, d2/du dl = -r_u r_l.
        var hUU = rU.square() - (1 - 2 * sU) * rU;
        var hLL = rL.square() + (1 - 2 * sL) * rL;
        var hUL = -rU * rL;
        var w = _weight.unsqueeze(1);
        var gEta = (-_upper * rU.unsqueeze(1) + _lower * rL.unsqueeze(1)) * w;                    // [n, m]
        var diagonal = (_upper * hUU.unsqueeze(1) + _lower * hLL.unsqueeze(1)) * w;                // [n, m]
        var offDiagonal = (_lower * hUL.unsqueeze(1) * w)[.., ..^1];                               // [n, m-1]: boundaries (k, k+1) of class k+1

        var gTheta = _xa.t().matmul(gEta);                                                         // [q, m]: row 0 intercepts, rows 1.. beta
        var gPhi = cat([gTheta[..1], ReverseCumsum(gTheta[1..], 1)], 0).t().contiguous();          // [m, q]
        var blocks = zeros(new long[] { m, m, q, q }, ScalarType.Float64, _x.device);
        for (var b = 0; b < m; b++)
        {
            blocks[b, b] = _xa.t().matmul(_xa * diagonal[.., b].unsqueeze(1));
            if (b + 1 < m)
            {
                var block = _xa.t().matmul(_xa * offDiagonal[.., b].unsqueeze(1));
                blocks[b, b + 1] = block;
                blocks[b + 1, b] = block.t();
            }
        }
        // theta = C phi: beta_k = sum_{l <= k} psi_l, intercepts unchanged. H_phi = C' H_theta C.
        var featureRows = arange(q, device: _x.device).ge(1).reshape(1, 1, q, 1);
        var featureColumns = arange(q, device: _x.device).ge(1).reshape(1, 1, 1, q);
        blocks = where(featureRows, ReverseCumsum(blocks, 0), blocks);
        blocks = where(featureColumns, ReverseCumsum(blocks, 1), blocks);
        var hessian = blocks.permute(0, 2, 1, 3).reshape(m * q, m * q).contiguous();

        return (double.IsNaN(value) ? double.PositiveInfinity : value, TensorCopy.ToArray(gPhi), TensorCopy.ToArray(hessian));
    }

    /// <summary>Class probabilities [n, K] of these rows at <paramref name="phi"/>, without any crossing repair.</summary>
    public Tensor Eta(ReadOnlySpan<double> phi)
    {
        int m = BoundaryCount, q = FeatureCount + 1;
        var parameters = tensor(phi.ToArray(), [m, q], ScalarType.Float64, _x.device);
        var alpha = parameters[.., 0];
        var beta = parameters[.., 1..].cumsum(0).t();      // [p, m]
        return _x.matmul(beta) + alpha.unsqueeze(0);
    }

    /// <summary>eta_y (+infinity for the last class) and eta_{y-1} (-infinity for the first) of each row.</summary>
    private (Tensor Upper, Tensor Lower) Bounds(Tensor eta)
    {
        var n = RowCount;
        var padded = cat([full(n, 1, double.NegativeInfinity, ScalarType.Float64, _x.device), eta, full(n, 1, double.PositiveInfinity, ScalarType.Float64, _x.device)], 1);
        return (padded.gather(1, (_y + 1).unsqueeze(1)).squeeze(1), padded.gather(1, _y.unsqueeze(1)).squeeze(1));
    }

    /// <summary>log P(y_i | x_i), NaN where the cumulative probabilities cross at the observed class.</summary>
    private Tensor LogProbabilityOfObserved(Tensor eta)
    {
        var (upper, lower) = Bounds(eta);
        // log(sigmoid(b) - sigmoid(a)) = logsigmoid(b) + logsigmoid(-a) + log(-expm1(a - b)), for b > a.
        var gap = -expm1(lower - upper);
        var logp = nn.functional.logsigmoid(upper) + nn.functional.logsigmoid(-lower) + gap.log();
        return where(upper > lower, logp, full_like(logp, double.NaN));
    }

    private static Tensor ReverseCumsum(Tensor t, long dim) => t.flip(dim).cumsum(dim).flip(dim);

    public void Dispose()
    {
        _x.Dispose();
        _xa.Dispose();
        _y.Dispose();
        _weight.Dispose();
        _upper.Dispose();
        _lower.Dispose();
    }
}
