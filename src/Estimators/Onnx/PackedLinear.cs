namespace Microsoft.ML.PaperExtensions.Onnx;

/// <summary>Which way the quantization groups of a Linear weight W [out, in] run.</summary>
internal enum GroupAxis
{
    /// <summary>A group is <c>g</c> consecutive input channels of one output row (the usual layout, ONNX Runtime's MatMulNBits).</summary>
    Input,

    /// <summary>A group is <c>g</c> consecutive output channels of one input column (AdaDim's per-IC grouping): W^T is stored.</summary>
    Output,
}

/// <summary>Weights kept exact beside a quantized Linear (GWQ's outliers), added to the dequantized weight at [row, column]; float16-representable values.</summary>
internal sealed record SparseOutliers(int[] Rows, int[] Columns, float[] Values)
{
    public int Count => Rows.Length;
}

/// <summary>
/// A quantized Linear y = x W_eff^T + b in ONNX Runtime's MatMulNBits layout. The stored matrix is W [out, in] for
/// <see cref="GroupAxis.Input"/> and W^T [in, out] for <see cref="GroupAxis.Output"/>; each of its <see cref="Rows"/> is cut into
/// <see cref="Blocks"/> groups of <see cref="GroupSize"/> columns (the last padded with its zero point), and the dequantized value
/// is (q - zero) * scale. <c>W_eff = dequant(W) diag(InputScale) + outliers</c>: AWQ's inverse scale multiplies x before the product.
/// </summary>
/// <param name="Outputs">out (N of MatMulNBits).</param>
/// <param name="Inputs">in (K of MatMulNBits).</param>
/// <param name="Bits">2, 3, 4 or 8; 3-bit codes are stored in a 4-bit container (MatMulNBits has no 3-bit kernel).</param>
/// <param name="GroupSize">Columns per group (a power of two for MatMulNBits; a per-channel group is the next one at or above the width).</param>
/// <param name="Axis">Which way the groups run.</param>
/// <param name="Codes">Packed codes, [Rows, Blocks, GroupSize * ContainerBits / 8] bytes, the least significant bits first.</param>
/// <param name="Scales">[Rows, Blocks].</param>
/// <param name="Zeros">Zero points, [Rows, Blocks], one byte each here (packed when written).</param>
/// <param name="InputScale">AWQ's inverse scales [in], or null.</param>
/// <param name="Outliers">Exact weights (their codes hold the zero point), or null.</param>
/// <param name="AccuracyLevel">MatMulNBits' <c>accuracy_level</c>: 0 computes in float32; 4 lets ONNX Runtime quantize the input to int8 blocks on the fly.</param>
/// <param name="DequantizeAtLoad">Write the unpack + MatMul form even where MatMulNBits applies: ONNX Runtime folds it to float32 weights at load.</param>
internal sealed record PackedLinear(int Outputs, int Inputs, int Bits, int GroupSize, GroupAxis Axis, byte[] Codes, float[] Scales, byte[] Zeros,
    float[]? InputScale = null, SparseOutliers? Outliers = null, int AccuracyLevel = 0, bool DequantizeAtLoad = false)
{
    public int Rows => Axis == GroupAxis.Input ? Outputs : Inputs;

    public int Columns => Axis == GroupAxis.Input ? Inputs : Outputs;

    public int Blocks => (Columns + GroupSize - 1) / GroupSize;

    /// <summary>Bits per stored code: 3-bit codes take a 4-bit slot.</summary>
    public int ContainerBits => Bits == 3 ? 4 : Bits;

    public int BlockBytes => GroupSize * ContainerBits / 8;

    /// <summary>Zero points packed as MatMulNBits reads them: [Rows, ceil(Blocks * ContainerBits / 8)], each row on a new byte.</summary>
    public byte[] PackedZeros() => Pack(Zeros, Rows, Blocks, ContainerBits);

    /// <summary>Whether every zero point is MatMulNBits' implicit one (2^(bits-1)), so none needs to be stored.</summary>
    public bool ImplicitZeros => Zeros.All(z => z == 1 << (ContainerBits - 1));

    /// <summary>Bytes of the stored form: codes, float32 scales, packed zeros (unless implicit), input scales, outliers (int32 row, int32 column, float16 value).</summary>
    public long StorageBytes => Codes.LongLength + 4L * Scales.Length + (ImplicitZeros ? 0 : PackedZeros().Length) + 4L * (InputScale?.Length ?? 0) + 10L * (Outliers?.Count ?? 0);

    /// <summary>Packs <paramref name="rows"/> rows of <paramref name="columns"/> values of <paramref name="bits"/> each (2, 4 or 8), the first value in the lowest bits; each row starts a new byte.</summary>
    public static byte[] Pack(ReadOnlySpan<byte> values, int rows, int columns, int bits)
    {
        int perByte = 8 / bits, rowBytes = (columns + perByte - 1) / perByte;
        var packed = new byte[rows * rowBytes];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                packed[r * rowBytes + c / perByte] |= (byte)(values[r * columns + c] << (c % perByte * bits));
        return packed;
    }

    /// <summary>The inverse of <see cref="Pack"/>.</summary>
    public static byte[] Unpack(ReadOnlySpan<byte> packed, int rows, int columns, int bits)
    {
        int perByte = 8 / bits, rowBytes = (columns + perByte - 1) / perByte, mask = (1 << bits) - 1;
        var values = new byte[rows * columns];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                values[r * columns + c] = (byte)((packed[r * rowBytes + c / perByte] >> (c % perByte * bits)) & mask);
        return values;
    }

    /// <summary>W_eff [out, in] row-major, as the graph computes with it (float32 arithmetic: (q - zero) * scale, times the input scale, plus the outliers; GWQ's codes dequantize to 0 there).</summary>
    public float[] EffectiveWeight()
    {
        int padded = Blocks * GroupSize;
        var codes = Unpack(Codes, Rows, padded, ContainerBits);
        var w = new float[Outputs * Inputs];
        for (int r = 0; r < Rows; r++)
            for (int c = 0; c < Columns; c++)
            {
                int block = r * Blocks + c / GroupSize;
                float value = (codes[r * padded + c] - (float)Zeros[block]) * Scales[block];
                var (o, i) = Axis == GroupAxis.Input ? (r, c) : (c, r);
                w[o * Inputs + i] = InputScale is null ? value : value * InputScale[i];
            }
        if (Outliers is { } s)
            for (int k = 0; k < s.Count; k++) w[s.Rows[k] * Inputs + s.Columns[k]] += s.Values[k];
        return w;
    }
}
