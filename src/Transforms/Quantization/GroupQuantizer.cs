using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Quantization;

/// <summary>Integer codes of a weight matrix cut into groups: codes [rows, blocks, g], scales and zero points [rows, blocks] (float32, integral codes and zeros).</summary>
internal sealed record GroupCodes(Tensor Codes, Tensor Scales, Tensor Zeros, int Columns) : IDisposable
{
    public int GroupSize => (int)Codes.shape[2];

    /// <summary>(q - zero) * scale, cut back to [rows, columns].</summary>
    public Tensor Dequantize()
    {
        using var scope = NewDisposeScope();
        var values = (Codes - Zeros.unsqueeze(-1)) * Scales.unsqueeze(-1);
        return values.reshape(Codes.shape[0], -1).narrow(1, 0, Columns).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Codes.Dispose();
        Scales.Dispose();
        Zeros.Dispose();
    }
}

/// <summary>
/// The shared group quantizer (quantization spec section 2), in float32 with round-half-to-even. A group is <c>g</c>
/// consecutive columns of one row; a row whose width is not a multiple of <c>g</c> gets a last group padded with its zero
/// point, and padded or excluded elements (GWQ's outliers) take no part in the group's range.
/// Asymmetric (AWQ's <c>pseudo_quantize_tensor</c>): scale = max(max - min, 1e-5) / (2^b - 1), zero = clamp(-round(min / scale), 0, 2^b - 1).
/// Symmetric (ONNX Runtime's <c>range2scale</c>): scale = m / -2^(b-1) with m the signed value of largest magnitude, zero = 2^(b-1).
/// </summary>
internal static class GroupQuantizer
{
    /// <param name="w">[rows, columns] float32.</param>
    /// <param name="bits">Bits per code.</param>
    /// <param name="groupSize">Columns per group.</param>
    /// <param name="symmetric">ONNX Runtime's symmetric rule instead of a zero point per group.</param>
    /// <param name="excluded">[rows, columns] bool, true where an element is kept exact elsewhere; its code is the zero point.</param>
    public static GroupCodes Quantize(Tensor w, int bits, int groupSize, bool symmetric, Tensor? excluded = null)
    {
        using var scope = NewDisposeScope();
        long rows = w.shape[0], columns = w.shape[1];
        long blocks = (columns + groupSize - 1) / groupSize, pad = blocks * groupSize - columns;
        float maxInt = (1 << bits) - 1;
        var real = ones(rows, columns, dtype: ScalarType.Bool);
        if (excluded is not null) real = real.logical_and(excluded.logical_not());
        var grouped = nn.functional.pad(w, [0, pad]).view(rows, blocks, groupSize);
        real = nn.functional.pad(real, [0, pad], value: 0).view(rows, blocks, groupSize);
        var any = real.any(-1);
        var min = where(any, grouped.where(real, float.PositiveInfinity).amin([-1]), 0f);
        var max = where(any, grouped.where(real, float.NegativeInfinity).amax([-1]), 0f);
        Tensor scale, zero;
        if (symmetric)
        {
            float half = 1 << (bits - 1);
            var extreme = where(min.abs() > max.abs(), min, max);
            scale = extreme / -half;
            scale = where(scale == 0, 1f, scale);
            zero = full_like(scale, half);
        }
        else
        {
            scale = (max - min).clamp_min(1e-5f) / maxInt;
            zero = (-(min / scale).round()).clamp(0, maxInt);
        }
        var codes = ((grouped / scale.unsqueeze(-1)).round() + zero.unsqueeze(-1)).clamp(0, maxInt);
        codes = where(real, codes, zero.unsqueeze(-1).expand_as(codes));
        return new GroupCodes(codes.MoveToOuterDisposeScope(), scale.MoveToOuterDisposeScope(), zero.MoveToOuterDisposeScope(), (int)columns);
    }

    /// <summary>Q(w) dequantized: [rows, columns].</summary>
    public static Tensor FakeQuantize(Tensor w, int bits, int groupSize, bool symmetric, Tensor? excluded = null)
    {
        using var codes = Quantize(w, bits, groupSize, symmetric, excluded);
        return codes.Dequantize();
    }
}
