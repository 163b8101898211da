using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Quantization;

/// <summary>
/// What the quantizers need of a Linear's calibration inputs X [T, in], gathered text by text without keeping X: the mean
/// |x| per input channel (AWQ's statistic), the Gram matrix X^T X in float64 (every output error ||X D^T||^2 = tr(D G D^T)),
/// every k-th token row (at most 512, as AWQ's clip search samples them), and the Gram matrix of held-out texts.
/// </summary>
internal sealed class LinearInputs : IDisposable
{
    public const int ClipTokens = 512;

    private readonly long _sampleStride;
    private readonly List<Tensor> _sampled = [];
    private Tensor _sumAbs;
    private Tensor _gram;
    private Tensor _heldOutGram;
    private long _seen;

    /// <param name="width">Input channels.</param>
    /// <param name="calibrationTokens">Tokens of the fitting texts, to space the clip rows over all of them.</param>
    public LinearInputs(long width, long calibrationTokens)
    {
        _sampleStride = Math.Max(1, calibrationTokens / ClipTokens);
        _sumAbs = zeros(width, dtype: ScalarType.Float64);
        _gram = zeros(width, width, dtype: ScalarType.Float64);
        _heldOutGram = zeros(width, width, dtype: ScalarType.Float64);
    }

    public long Count { get; private set; }

    public long HeldOutCount { get; private set; }

    /// <summary>Σ x^T x over the fitting tokens [in, in], float64.</summary>
    public Tensor Gram => _gram;

    /// <summary>The same over held-out tokens (all zero when there were none).</summary>
    public Tensor HeldOutGram => _heldOutGram;

    /// <summary>Mean |x| per input channel over the fitting tokens [in], float64.</summary>
    public Tensor MeanAbs() => _sumAbs / Math.Max(1, Count);

    /// <summary>Token rows 0, k, 2k, ... (k = tokens / 512) of the fitting tokens, at most 512, float64 [n, in].</summary>
    public Tensor ClipRows() => cat(_sampled, 0);

    /// <summary>Adds the rows of one text (or batch) [tokens, in].</summary>
    public void Add(Tensor rows, bool heldOut)
    {
        using var scope = NewDisposeScope();
        var x = rows.detach().to_type(ScalarType.Float64).cpu();
        if (heldOut)
        {
            _heldOutGram.add_(x.t().matmul(x));
            HeldOutCount += x.shape[0];
            return;
        }
        _sumAbs.add_(x.abs().sum(dim: 0));
        _gram.add_(x.t().matmul(x));
        // Global row indices seen .. seen + n; keep those divisible by the stride, the first 512 of them.
        long first = (_seen + _sampleStride - 1) / _sampleStride * _sampleStride;
        var picked = new List<long>();
        for (long i = first; i < _seen + x.shape[0] && i / _sampleStride < ClipTokens; i += _sampleStride) picked.Add(i - _seen);
        if (picked.Count > 0) _sampled.Add(x.index_select(0, tensor(picked.ToArray())).DetachFromDisposeScope());
        _seen += x.shape[0];
        Count += x.shape[0];
    }

    public void Dispose()
    {
        _sumAbs.Dispose();
        _gram.Dispose();
        _heldOutGram.Dispose();
        foreach (var t in _sampled) t.Dispose();
    }

    /// <summary>Σ over output rows of d G d^T for D [out, in] (float64): the squared error ||X D^T||^2 of those inputs.</summary>
    public static double SquaredOutputError(Tensor d, Tensor gram)
    {
        using var scope = NewDisposeScope();
        var d64 = d.to_type(ScalarType.Float64);
        return d64.matmul(gram).mul(d64).sum().item<double>();
    }
}
