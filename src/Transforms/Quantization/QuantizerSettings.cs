using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Quantization;

/// <summary>Bits, group size (0 = one group per row) and symmetry of the group quantizer.</summary>
internal sealed record QuantizerSettings(int Bits, int Group, bool Symmetric)
{
    /// <summary>The group size for rows of <paramref name="columns"/> values: a per-row group is the next power of two at or above the width (padded).</summary>
    public int GroupSize(long columns) => Group > 0 ? Group : (int)Math.Max(16, System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)columns));

    public GroupCodes Quantize(Tensor w, Tensor? excluded = null) => GroupQuantizer.Quantize(w, Bits, GroupSize(w.shape[1]), Symmetric, excluded);

    public Tensor FakeQuantize(Tensor w, Tensor? excluded = null) => GroupQuantizer.FakeQuantize(w, Bits, GroupSize(w.shape[1]), Symmetric, excluded);
}
