using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Runtime;

/// <summary>Bulk copies between tensors and managed arrays (TorchSharp's element accessor is about 100 times slower).</summary>
internal static class TensorCopy
{
    /// <summary>The values of a float64 tensor in row-major order, copied to a new array.</summary>
    public static double[] ToArray(Tensor tensor)
    {
        if (tensor.dtype != ScalarType.Float64)
        {
            throw new ArgumentException($"Expected a Float64 tensor, got {tensor.dtype}.", nameof(tensor));
        }
        using var scope = NewDisposeScope();
        var dense = tensor.device_type == DeviceType.CPU && tensor.is_contiguous() ? tensor : tensor.cpu().contiguous();
        return MemoryMarshal.Cast<byte, double>(dense.bytes).ToArray();
    }
}
