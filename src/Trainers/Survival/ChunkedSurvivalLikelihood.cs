using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Survival;

/// <summary>
/// The survival log-likelihood over row chunks: each chunk is a <see cref="SurvivalLikelihood"/> on views of the full
/// tensors, so a pass over a million rows keeps the temporaries of one chunk alive at a time; values, gradients and
/// Hessians are sums over chunks.
/// </summary>
internal sealed class ChunkedSurvivalLikelihood : IDisposable
{
    /// <summary>Rows per chunk: each temporary is 512 KiB of doubles, below glibc's mmap threshold, so it reuses heap memory.</summary>
    public const int DefaultChunkRows = 65_536;
    private readonly Tensor[] _columns; // logTime, logEntry, truncated, event, weight, aft, ph, shape
    private readonly List<SurvivalLikelihood> _chunks = [];
    private readonly int _chunkRows;
    private bool _ownsColumns;

    /// <summary>Chunks over the given per-row tensors, which stay the caller's.</summary>
    public ChunkedSurvivalLikelihood(Tensor logTime, Tensor logEntry, Tensor truncated, Tensor isEvent, Tensor weight, Tensor aft, Tensor ph, Tensor shape, bool gompertz,
        int chunkRows = 0)
    {
        Gompertz = gompertz;
        _chunkRows = chunkRows = chunkRows > 0 ? chunkRows : DefaultChunkRows;
        _columns = [logTime, logEntry, truncated, isEvent, weight, aft, ph, shape];
        RowCount = (int)logTime.shape[0];
        for (var start = 0; start < RowCount; start += chunkRows)
        {
            var length = Math.Min(chunkRows, RowCount - start);
            var view = _columns.Select(c => c.narrow(0, start, length)).ToArray();
            _chunks.Add(new SurvivalLikelihood(view[0], view[1], view[2], view[3], view[4], view[5], view[6], view[7], gompertz));
            foreach (var v in view) v.Dispose();
        }
    }

    public bool Gompertz { get; }

    public int RowCount { get; }

    private SurvivalLikelihood First => _chunks[0];

    public int TauStart => First.TauStart;

    public int BetaStart => First.BetaStart;

    public int AlphaStart => First.AlphaStart;

    public int NuIndex => First.NuIndex;

    public int ShapeCount => First.ShapeCount;

    public int ParameterCount => First.ParameterCount;

    /// <summary>A random subsample of <paramref name="rows"/> rows (a copy), for cheap starting values.</summary>
    public ChunkedSurvivalLikelihood Subsample(int rows, int seed)
    {
        var picked = Enumerable.Range(0, RowCount).ToArray();
        new Random(seed).Shuffle(picked);
        using var index = tensor(picked[..rows].Select(i => (long)i).ToArray(), ScalarType.Int64, _columns[0].device);
        var columns = _columns.Select(c => c.index_select(0, index).DetachFromDisposeScope()).ToArray();
        return new ChunkedSurvivalLikelihood(columns[0], columns[1], columns[2], columns[3], columns[4], columns[5], columns[6], columns[7], Gompertz, _chunkRows)
        {
            _ownsColumns = true,
        };
    }

    public double Value(double[] theta)
    {
        var sum = 0.0;
        foreach (var chunk in _chunks) sum += chunk.Value(theta);
        return sum;
    }

    public (double Value, double[] Gradient, double[,] Hessian) Derivatives(double[] theta)
    {
        var dim = theta.Length;
        var value = 0.0;
        var gradient = new double[dim];
        var hessian = new double[dim, dim];
        foreach (var chunk in _chunks)
        {
            var (v, g, h) = chunk.Derivatives(theta);
            value += v;
            for (var i = 0; i < dim; i++)
            {
                gradient[i] += g[i];
                for (var j = 0; j < dim; j++) hessian[i, j] += h[i, j];
            }
        }
        return (value, gradient, hessian);
    }

    public void Dispose()
    {
        foreach (var chunk in _chunks) chunk.Dispose();
        if (_ownsColumns)
        {
            foreach (var column in _columns) column.Dispose();
        }
    }
}
