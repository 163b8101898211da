using static TorchSharp.torch;
using Microsoft.ML.PaperExtensions.Runtime;

namespace Microsoft.ML.PaperExtensions.Quantization;

/// <summary>AWQ for one Linear (spec 3.2, the generic per-Linear variant without duo scaling): the scale search, then the clip search.</summary>
internal static class AwqSearch
{
    /// <summary>alpha = i / 20, i = 0..19 (alpha = 1 is never tried; alpha = 0 gives s = 1, which is RTN).</summary>
    public const int AlphaSteps = 20;

    /// <summary>Shrink ratios i / 20, i = 0..9, of each group's largest |w|.</summary>
    public const int ClipSteps = 10;

    /// <summary>s = max(mean|x|^alpha, 1e-4) / sqrt(max s * min s), in float64 then float32.</summary>
    public static Tensor Scale(Tensor meanAbs, double alpha)
    {
        using var scope = NewDisposeScope();
        var s = meanAbs.pow(alpha).clamp_min(1e-4);
        s = s / Math.Sqrt(s.max().item<double>() * s.min().item<double>());
        return s.to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The alpha whose scales give the lowest output error ||(X diag(s)^-1) Q(W diag(s))^T - X W^T||^2 / (T * out) on the
    /// fitting inputs (the first wins ties), its scales and every alpha's error.
    /// </summary>
    public static (int AlphaIndex, Tensor Scale, double[] Losses) SearchScale(Tensor w, LinearInputs inputs, QuantizerSettings settings, CancellationToken cancellationToken)
    {
        using var scope = NewDisposeScope();
        var meanAbs = inputs.MeanAbs();
        var w64 = w.to_type(ScalarType.Float64);
        double denominator = (double)inputs.Count * w.shape[0];
        var losses = new double[AlphaSteps];
        int best = 0;
        Tensor? bestScale = null;
        for (int i = 0; i < AlphaSteps; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TorchFinalizerGate.SafePoint();
            using var step = NewDisposeScope();
            var s = Scale(meanAbs, (double)i / AlphaSteps);
            var effective = settings.FakeQuantize(w * s).to_type(ScalarType.Float64) / s.to_type(ScalarType.Float64);
            losses[i] = LinearInputs.SquaredOutputError(effective - w64, inputs.Gram) / denominator;
            if (bestScale is null || losses[i] < losses[best])
            {
                best = i;
                bestScale?.Dispose();
                bestScale = s.MoveToOuterDisposeScope();
            }
        }
        return (best, bestScale!.MoveToOuterDisposeScope(), losses);
    }

    /// <summary>
    /// Per (row, group) the clip max|w| * (1 - i/20), i = 0..9, whose quantized partial products on <paramref name="rows"/> ([n, in]
    /// float64, already divided by s) are closest to the unclipped ones (the first wins ties), and <paramref name="ws"/> clamped with it.
    /// </summary>
    public static (Tensor Clipped, Tensor ShrinkIndex) SearchClip(Tensor ws, Tensor rows, QuantizerSettings settings, CancellationToken cancellationToken)
    {
        using var scope = NewDisposeScope();
        long outputs = ws.shape[0], columns = ws.shape[1];
        int g = settings.GroupSize(columns);
        long blocks = (columns + g - 1) / g, pad = blocks * g - columns;
        var grouped = nn.functional.pad(ws, [0, pad]).view(outputs, blocks, g);
        var original = grouped.abs().amax([-1]);
        // Per-group Gram blocks of the sampled rows: [blocks, g, g].
        var x = nn.functional.pad(rows, [0, pad]).view(rows.shape[0], blocks, g).permute(1, 0, 2);
        var gram = x.transpose(1, 2).matmul(x);
        var w64 = grouped.to_type(ScalarType.Float64);
        var bestError = full(outputs, blocks, double.PositiveInfinity, dtype: ScalarType.Float64);
        var bestMax = original.clone();
        var bestIndex = zeros(outputs, blocks, dtype: ScalarType.Int64);
        for (int i = 0; i < ClipSteps; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TorchFinalizerGate.SafePoint();
            using var step = NewDisposeScope();
            var maxValue = original * (float)(1 - (double)i / (2 * ClipSteps));
            var clipped = grouped.clamp(-maxValue.unsqueeze(-1), maxValue.unsqueeze(-1)).view(outputs, -1).narrow(1, 0, columns);
            var q = nn.functional.pad(settings.FakeQuantize(clipped), [0, pad]).view(outputs, blocks, g).to_type(ScalarType.Float64);
            var d = (q - w64).permute(1, 0, 2);                                    // [blocks, out, g]
            var error = d.matmul(gram).mul(d).sum(-1).t();                         // [out, blocks]
            var better = error < bestError;
            bestError.copy_(where(better, error, bestError));
            bestMax.copy_(where(better, maxValue, bestMax));
            bestIndex.copy_(where(better, full_like(bestIndex, i), bestIndex));
        }
        var result = grouped.clamp(-bestMax.unsqueeze(-1), bestMax.unsqueeze(-1)).view(outputs, -1).narrow(1, 0, columns).contiguous();
        return (result.MoveToOuterDisposeScope(), bestIndex.MoveToOuterDisposeScope());
    }
}
