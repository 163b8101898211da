using Microsoft.ML.PaperExtensions.Runtime;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.SemiSupervised;

/// <summary>What the spreading iterations ended with.</summary>
/// <param name="Distributions">Row-normalised label distributions, [n, K] row-major (all zero for a row no label reached).</param>
/// <param name="Mass">Each row's label mass before normalisation (sum over classes of F).</param>
/// <param name="Iterations">Spreading iterations run (scikit-learn's <c>n_iter_</c>).</param>
/// <param name="Converged">Whether the change fell below the tolerance before the iteration limit.</param>
internal sealed record SpreadResult(double[] Distributions, double[] Mass, int Iterations, bool Converged);

/// <summary>
/// Label spreading (Zhou et al., 2004) on a graph that is never held as an n x n matrix, with scikit-learn's
/// <c>LabelSpreading</c> semantics (version 1.2):
/// <list type="bullet">
/// <item>kNN: A_ij = 1 when j is among the k nearest rows of i (i itself included, as scikit-learn's connectivity graph of the
/// fitted rows does); RBF: A_ij = exp(-gamma ||x_i - x_j||^2).</item>
/// <item>Degrees are column sums without the diagonal (scipy's <c>laplacian(normed=True)</c>, in-degree); a node of degree 0
/// counts 1. S_ij = A_ij / sqrt(d_i d_j) for i != j, S_ii = 0.</item>
/// <item>F_0 = Y (one-hot rows of the labelled rows, zero rows elsewhere); F_{t+1} = alpha S F_t + (1 - alpha) Y, stopped
/// before an update once sum |F_t - F_{t-1}| &lt; tol (F_{-1} = 0) or after the iteration limit; rows are then normalised.</item>
/// </list>
/// Complexity: exact neighbour search in blocks of rows, O(n^2 p) time and O(n k + block x n) memory; each kNN iteration is
/// O(n k K). RBF holds its kernel when it fits in 64 MB (n up to about 2,900): O(n^2 p + iterations n^2 K) time; beyond
/// that it recomputes the kernel in blocks every iteration: O(iterations n^2 p) time, O(block x n) memory.
/// </summary>
internal static class LabelSpreadingGraph
{
    /// <summary>
    /// Doubles per distance block (16 MB): below glibc's largest mmap threshold, so freed blocks are reused from the heap
    /// instead of being mapped and faulted in again (64 MB blocks made the search 3 x slower).
    /// </summary>
    private const long BlockElements = 1L << 21;

    /// <summary>Rows per block when each row of a block holds <paramref name="width"/> values.</summary>
    public static long BlockRows(long width) => Math.Clamp(BlockElements / Math.Max(1, width), 1, 8192);

    /// <summary>Squared Euclidean distances of <paramref name="rows"/> to every row of <paramref name="all"/> ([b, n]), by ||a||^2 - 2 a.b + ||b||^2.</summary>
    public static Tensor SquaredDistances(Tensor rows, Tensor all, Tensor allSquaredNorms) =>
        rows.square().sum(1, keepdim: true).add(allSquaredNorms.unsqueeze(0)).sub(rows.mm(all.t()).mul(2));

    /// <summary>The k nearest rows of every row of <paramref name="x"/> ([n, p] float64), itself included: [n, k] int64.</summary>
    public static Tensor NearestNeighbours(Tensor x, int k, CancellationToken cancellationToken) => NearestAmong(x, x, k, cancellationToken);

    /// <summary>
    /// The k nearest rows of <paramref name="reference"/> ([m, p] float64) to every row of <paramref name="queries"/> ([n, p]):
    /// [n, k] int64 indices into <paramref name="reference"/>, nearest first. Rows are ranked by ||r_j||^2 - 2 q_i.r_j (the
    /// squared distance less ||q_i||^2, which is the same for the whole row), one fused addmm per block of queries.
    /// </summary>
    public static Tensor NearestAmong(Tensor queries, Tensor reference, int k, CancellationToken cancellationToken)
    {
        var n = queries.shape[0];
        if (n == 0) return zeros(0, k, ScalarType.Int64, queries.device);
        var block = BlockRows(reference.shape[0]);
        var parts = new List<Tensor>();
        var norms = reference.square().sum(1);
        for (long start = 0; start < n; start += block)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TorchFinalizerGate.SafePoint();
            using var scope = NewDisposeScope();
            var rows = queries.narrow(0, start, Math.Min(block, n - start));
            var (_, indices) = addmm(norms.unsqueeze(0), rows, reference.t(), beta: 1, alpha: -2).topk(k, 1, largest: false, sorted: true);
            parts.Add(indices.MoveToOuterDisposeScope());
        }
        return parts.Count == 1 ? parts[0] : cat(parts, 0);
    }

    /// <summary>Label spreading over the kNN graph given by <paramref name="neighbours"/> ([n, k]).</summary>
    public static SpreadResult SpreadKnn(Tensor neighbours, Tensor y, double alpha, int maxIterations, double tolerance, CancellationToken cancellationToken)
    {
        using var scope = NewDisposeScope();
        var n = neighbours.shape[0];
        var self = arange(n, device: neighbours.device).unsqueeze(1);
        var offDiagonal = neighbours.ne(self);
        var degree = bincount(neighbours.masked_select(offDiagonal), minlength: n).to_type(ScalarType.Float64);
        var scale = where(degree.eq(0), ones_like(degree), degree.sqrt()).unsqueeze(1);
        var mask = offDiagonal.to_type(ScalarType.Float64).unsqueeze(2);
        Tensor Step(Tensor f) => f.div(scale).index_select(0, neighbours.reshape(-1)).reshape(n, neighbours.shape[1], -1).mul(mask).sum(1).div(scale);
        return Iterate(Spreading(Step, y, alpha), y, maxIterations, tolerance, cancellationToken);
    }

    /// <summary>
    /// Label propagation (Zhu and Ghahramani, 2002; scikit-learn's <c>LabelPropagation</c>) over the kNN graph given by
    /// <paramref name="neighbours"/> ([n, k], each row among its own neighbours): F_{t+1} = rows of A F_t normalised, then the
    /// labelled rows reset to their labels (hard clamping).
    /// </summary>
    public static SpreadResult PropagateKnn(Tensor neighbours, Tensor y, Tensor labelled, int maxIterations, double tolerance, CancellationToken cancellationToken)
    {
        using var scope = NewDisposeScope();
        var n = neighbours.shape[0];
        Tensor Step(Tensor f) => f.index_select(0, neighbours.reshape(-1)).reshape(n, neighbours.shape[1], -1).sum(1);
        return Iterate(Propagation(Step, y, labelled), y, maxIterations, tolerance, cancellationToken);
    }

    /// <summary>
    /// Label spreading (<paramref name="labelled"/> null) or label propagation (<paramref name="labelled"/>: [n, 1] Boolean)
    /// over the full RBF kernel of <paramref name="x"/> ([n, p] float64), computed in blocks. Spreading leaves the kernel's
    /// diagonal out of the graph, as scikit-learn's Laplacian does; propagation keeps it (each row weighs itself by 1).
    /// </summary>
    public static SpreadResult SpreadRbf(Tensor x, double gamma, Tensor y, double alpha, Tensor? labelled, int maxIterations, double tolerance, CancellationToken cancellationToken)
    {
        using var scope = NewDisposeScope();
        var n = x.shape[0];
        var block = BlockRows(n);
        var norms = x.square().sum(1);
        // The kernel of rows [start, start + b) with its diagonal entries set to 0.
        Tensor Kernel(long start, long b)
        {
            var w = SquaredDistances(x.narrow(0, start, b), x, norms).clamp_min(0).mul(-gamma).exp();
            var diagonal = arange(b, device: x.device).mul(n + 1).add(start);
            return w.reshape(-1).index_fill(0, diagonal, 0.0).reshape(b, n);
        }
        // A kernel of at most 64 MB is computed once; a larger one, block by block at every iteration.
        var whole = n * n <= 4 * BlockElements ? Kernel(0, n) : null;
        Tensor OffDiagonalProduct(Tensor g)
        {
            if (whole is not null) return whole.mm(g);
            var parts = new List<Tensor>();
            for (long start = 0; start < n; start += block)
            {
                cancellationToken.ThrowIfCancellationRequested();
                TorchFinalizerGate.SafePoint();
                using var inner = NewDisposeScope();
                parts.Add(Kernel(start, Math.Min(block, n - start)).mm(g).MoveToOuterDisposeScope());
            }
            return cat(parts, 0);
        }
        if (labelled is not null)
        {
            return Iterate(Propagation(f => OffDiagonalProduct(f).add(f), y, labelled), y, maxIterations, tolerance, cancellationToken);
        }
        var degree = OffDiagonalProduct(ones(n, 1, ScalarType.Float64, x.device)).squeeze(1);
        var scale = where(degree.eq(0), ones_like(degree), degree.sqrt()).unsqueeze(1);
        return Iterate(Spreading(f => OffDiagonalProduct(f.div(scale)).div(scale), y, alpha), y, maxIterations, tolerance, cancellationToken);
    }

    /// <summary>One-hot rows [n, K] float64 of the classes (-1 = unlabelled: a zero row).</summary>
    public static Tensor OneHot(int[] classes, int classCount, Device device)
    {
        var values = new double[classes.Length * classCount];
        for (var i = 0; i < classes.Length; i++)
        {
            if (classes[i] >= 0) values[i * classCount + classes[i]] = 1;
        }
        return tensor(values, [classes.Length, classCount], ScalarType.Float64, device);
    }

    /// <summary>Zhou et al.'s update: F_{t+1} = alpha S F_t + (1 - alpha) Y.</summary>
    private static Func<Tensor, Tensor> Spreading(Func<Tensor, Tensor> step, Tensor y, double alpha)
    {
        var clamp = y.mul(1 - alpha);
        return f => step(f).mul(alpha).add(clamp);
    }

    /// <summary>Zhu and Ghahramani's update: rows of W F_t normalised (a row with no mass stays 0), labelled rows reset to Y.</summary>
    private static Func<Tensor, Tensor> Propagation(Func<Tensor, Tensor> step, Tensor y, Tensor labelled) => f =>
    {
        var next = step(f);
        var mass = next.sum(1, keepdim: true);
        return where(labelled, y, next.div(where(mass.eq(0), ones_like(mass), mass)));
    };

    private static SpreadResult Iterate(Func<Tensor, Tensor> update, Tensor y, int maxIterations, double tolerance, CancellationToken cancellationToken)
    {
        var f = y.clone();
        var previous = zeros_like(y);
        var iterations = 0;
        var converged = false;
        for (; iterations < maxIterations; iterations++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TorchFinalizerGate.SafePoint();
            using var iteration = NewDisposeScope();
            if (f.sub(previous).abs().sum().item<double>() < tolerance)
            {
                converged = true;
                break;
            }
            var next = update(f).MoveToOuterDisposeScope();
            previous.Dispose();
            previous = f;
            f = next;
        }
        var mass = f.sum(1, keepdim: true);
        var distributions = f.div(where(mass.eq(0), ones_like(mass), mass));
        return new SpreadResult(TensorCopy.ToArray(distributions), TensorCopy.ToArray(mass.squeeze(1)), iterations, converged);
    }
}
