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
    /// <summary>Rows per chunk of every pass: temporaries of a few [chunk, K] tensors, so memory does not grow with the rows beyond the data itself.</summary>
    public const int DefaultChunkRows = 65_536;
    private readonly Tensor _design;   // [n, p+1]: a leading column of ones, then the standardised features
    private readonly Tensor _y;        // [n] class index, int64
    private readonly Tensor _weight;   // [n] row weight / sum of weights
    private readonly int _chunkRows;

    /// <param name="design">[n, p + 1]: a column of ones, then the standardised features (kept, not copied).</param>
    /// <param name="classes">Class index of each row, 0 to <paramref name="classCount"/> - 1.</param>
    /// <param name="weights">Row weights.</param>
    /// <param name="classCount">K.</param>
    /// <param name="chunkRows">Rows per chunk (0: <see cref="DefaultChunkRows"/>).</param>
    public CumulativeLogitProblem(Tensor design, long[] classes, double[] weights, int classCount, int chunkRows = 0)
    {
        RowCount = (int)design.shape[0];
        FeatureCount = (int)design.shape[1] - 1;
        ClassCount = classCount;
        _chunkRows = chunkRows > 0 ? chunkRows : DefaultChunkRows;
        var device = design.device;
        _design = design.alias().DetachFromDisposeScope();
        _y = TensorCopy.Adopt(classes, device, RowCount).DetachFromDisposeScope();
        var total = weights.Sum();
        _weight = (weights.All(w => w == weights[0]) ? TensorCopy.Constant(1.0 / RowCount, RowCount, device)
            : TensorCopy.Adopt(weights.Select(w => w / total).ToArray(), device, RowCount)).DetachFromDisposeScope();
    }

    /// <summary>Standardised features [n, p] as the design the constructor takes: a column of ones before them.</summary>
    public static Tensor Design(Tensor standardisedFeatures) =>
        cat([ones(standardisedFeatures.shape[0], 1, ScalarType.Float64, standardisedFeatures.device), standardisedFeatures], 1);

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
        var theta = Theta(phi);
        var value = 0.0;
        foreach (var (x, y, weight) in Chunks())
        {
            using var chunkScope = NewDisposeScope();
            value -= (LogProbabilityOfObserved(x.matmul(theta), y) * weight).sum().item<double>();
        }
        return double.IsNaN(value) ? double.PositiveInfinity : value;
    }

    /// <summary>
    /// The mean negative log-likelihood, its gradient in <c>phi</c>, and its Hessian in <c>phi</c> as a dense row-major
    /// matrix. The cumulative logit log-likelihood is concave in eta, so the Hessian is positive semi-definite and the
    /// Newton model is exact to second order (ordinalNet's Fisher scoring converges only linearly near crossing rows).
    /// Each is a sum over rows, accumulated chunk by chunk.
    /// </summary>
    public (double Value, double[] Gradient, double[] Hessian) Quadratic(ReadOnlySpan<double> phi)
    {
        using var scope = NewDisposeScope();
        int m = BoundaryCount, q = FeatureCount + 1, k = ClassCount;
        var device = _design.device;
        var theta = Theta(phi);
        var value = 0.0;
        var gTheta = zeros(new long[] { q, m }, ScalarType.Float64, device);                   // row 0 intercepts, rows 1.. beta
        var diagonalBlocks = zeros(new long[] { m, q, q }, ScalarType.Float64, device);        // H_theta[b, b]
        var offDiagonalBlocks = zeros(new long[] { Math.Max(m - 1, 0), q, q }, ScalarType.Float64, device); // H_theta[b, b + 1]
        foreach (var (x, y, weight) in Chunks())
        {
            using var chunkScope = NewDisposeScope();
            var eta = x.matmul(theta);
            var logp = LogProbabilityOfObserved(eta, y);
            value -= (logp * weight).sum().item<double>();

            // Per row, p = sigmoid(u) - sigmoid(l) with u = eta_y (upper) and l = eta_{y-1} (lower); r = f / p for each side,
            // in stable form for the end classes (y = 0: r_u = 1 - sigmoid(u); y = K-1: r_l = sigmoid(l)).
            var (upperEta, lowerEta) = Bounds(eta, y);
            var sU = sigmoid(upperEta);
            var sL = sigmoid(lowerEta);
            var p = logp.exp().clamp_min(1e-300);
            var rU = where(y == 0, 1 - sU, sU * (1 - sU) / p);
            var rL = where(y == k - 1, sL, sL * (1 - sL) / p);
            // -log p: d/du = -r_u, d/dl = r_l; d2/du2 = r_u^2 - (1 - 2 s_u) r_u, d2/dl2 = r_l^2 + (1 - 2 s_l) r_l, d2/du dl = -r_u r_l.
            var hUU = rU.square() - (1 - 2 * sU) * rU;
            var hLL = rL.square() + (1 - 2 * sL) * rL;
            var hUL = -rU * rL;
            var oneHot = nn.functional.one_hot(y, k).to_type(ScalarType.Float64);
            var upper = oneHot[.., ..(k - 1)];                                                     // 1 where y == b
            var lower = oneHot[.., 1..];                                                           // 1 where y == b + 1
            var w = weight.unsqueeze(1);
            var gEta = (-upper * rU.unsqueeze(1) + lower * rL.unsqueeze(1)) * w;                   // [rows, m]
            var diagonal = (upper * hUU.unsqueeze(1) + lower * hLL.unsqueeze(1)) * w;              // [rows, m]
            var offDiagonal = (lower * hUL.unsqueeze(1) * w)[.., ..^1];                             // [rows, m-1]: boundaries (b, b+1) of class b+1
            gTheta.add_(x.t().matmul(gEta));
            for (var b = 0; b < m; b++)
            {
                diagonalBlocks[b].add_(x.t().matmul(x * diagonal[.., b].unsqueeze(1)));
                if (b + 1 < m) offDiagonalBlocks[b].add_(x.t().matmul(x * offDiagonal[.., b].unsqueeze(1)));
            }
        }

        var gPhi = cat([gTheta[..1], ReverseCumsum(gTheta[1..], 1)], 0).t().contiguous();          // [m, q]
        var blocks = zeros(new long[] { m, m, q, q }, ScalarType.Float64, device);
        for (var b = 0; b < m; b++)
        {
            blocks[b, b] = diagonalBlocks[b];
            if (b + 1 < m)
            {
                blocks[b, b + 1] = offDiagonalBlocks[b];
                blocks[b + 1, b] = offDiagonalBlocks[b].t();
            }
        }
        // theta = C phi: beta_k = sum_{l <= k} psi_l, intercepts unchanged. H_phi = C' H_theta C.
        var featureRows = arange(q, device: device).ge(1).reshape(1, 1, q, 1);
        var featureColumns = arange(q, device: device).ge(1).reshape(1, 1, 1, q);
        blocks = where(featureRows, ReverseCumsum(blocks, 0), blocks);
        blocks = where(featureColumns, ReverseCumsum(blocks, 1), blocks);
        var hessian = blocks.permute(0, 2, 1, 3).reshape(m * q, m * q).contiguous();

        return (double.IsNaN(value) ? double.PositiveInfinity : value, TensorCopy.ToArray(gPhi), TensorCopy.ToArray(hessian));
    }

    /// <summary>theta [q, m] from phi: column b holds alpha_b, then beta_b = psi_1 + ... + psi_b.</summary>
    private Tensor Theta(ReadOnlySpan<double> phi)
    {
        int m = BoundaryCount, q = FeatureCount + 1;
        var parameters = tensor(phi.ToArray(), [m, q], ScalarType.Float64, _design.device);
        return cat([parameters[.., ..1], parameters[.., 1..].cumsum(0)], 1).t();
    }

    /// <summary>Views of the design, classes and weights, chunk by chunk; each view is disposed with the caller's scope.</summary>
    private IEnumerable<(Tensor X, Tensor Y, Tensor Weight)> Chunks()
    {
        for (var start = 0; start < RowCount; start += _chunkRows)
        {
            var length = Math.Min(_chunkRows, RowCount - start);
            yield return (_design.narrow(0, start, length), _y.narrow(0, start, length), _weight.narrow(0, start, length));
        }
    }

    /// <summary>eta_y (+infinity for the last class) and eta_{y-1} (-infinity for the first) of each row.</summary>
    private static (Tensor Upper, Tensor Lower) Bounds(Tensor eta, Tensor y)
    {
        var n = eta.shape[0];
        var padded = cat([full(n, 1, double.NegativeInfinity, ScalarType.Float64, eta.device), eta, full(n, 1, double.PositiveInfinity, ScalarType.Float64, eta.device)], 1);
        return (padded.gather(1, (y + 1).unsqueeze(1)).squeeze(1), padded.gather(1, y.unsqueeze(1)).squeeze(1));
    }

    /// <summary>log P(y_i | x_i), NaN where the cumulative probabilities cross at the observed class.</summary>
    private static Tensor LogProbabilityOfObserved(Tensor eta, Tensor y)
    {
        var (upper, lower) = Bounds(eta, y);
        // log(sigmoid(b) - sigmoid(a)) = logsigmoid(b) + logsigmoid(-a) + log(-expm1(a - b)), for b > a.
        var gap = -expm1(lower - upper);
        var logp = nn.functional.logsigmoid(upper) + nn.functional.logsigmoid(-lower) + gap.log();
        return where(upper > lower, logp, full_like(logp, double.NaN));
    }

    private static Tensor ReverseCumsum(Tensor t, long dim) => t.flip(dim).cumsum(dim).flip(dim);

    public void Dispose()
    {
        _design.Dispose();
        _y.Dispose();
        _weight.Dispose();
    }
}
