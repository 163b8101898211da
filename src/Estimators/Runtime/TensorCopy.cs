using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Runtime;

/// <summary>Bulk copies between tensors and managed arrays (TorchSharp's element accessor is about 100 times slower).</summary>
internal static class TensorCopy
{
    /// <summary>
    /// A tensor of the given shape over <paramref name="values"/> itself (its dtype follows the element type): on the CPU no
    /// copy is made (the array is pinned for the tensor's life), elsewhere it is copied to the device. TorchSharp's
    /// <c>tensor(double[])</c> clones the array into a second pinned managed array, which doubles a large data set's memory.
    /// The caller gives the array up: it must not be written afterwards.
    /// </summary>
    public static Tensor Adopt<T>(T[] values, Device device, params long[] shape) where T : unmanaged
    {
        using var flat = from_array(values, CPU);
        if (device.type == DeviceType.CPU) return flat.view(shape);
        using var host = flat.view(shape);
        return host.to(device);
    }

    /// <summary>A float64 column of <paramref name="rows"/> equal values: a broadcast view of one element, so it costs no memory per row.</summary>
    public static Tensor Constant(double value, long rows, Device device)
    {
        using var one = full(1, value, ScalarType.Float64, device);
        return one.expand(rows);
    }

    /// <summary>The values of a float64 tensor in row-major order, copied to a new array.</summary>
    public static double[] ToArray(Tensor tensor) => ToArray<double>(tensor);

    /// <summary>
    /// The values of a tensor in row-major order, copied to a new array; <typeparamref name="T"/> must match its dtype
    /// (double = Float64, float = Float32, long = Int64, int = Int32, bool = Bool).
    /// </summary>
    public static T[] ToArray<T>(Tensor tensor) where T : unmanaged
    {
        var expected = default(T) switch
        {
            double => ScalarType.Float64,
            float => ScalarType.Float32,
            long => ScalarType.Int64,
            int => ScalarType.Int32,
            bool => ScalarType.Bool,
            _ => throw new ArgumentException($"No tensor type for {typeof(T)}.", nameof(T)),
        };
        if (tensor.dtype != expected)
        {
            throw new ArgumentException($"Expected a {expected} tensor, got {tensor.dtype}.", nameof(tensor));
        }
        using var scope = NewDisposeScope();
        var dense = tensor.device_type == DeviceType.CPU && tensor.is_contiguous() ? tensor : tensor.detach().cpu().contiguous();
        return MemoryMarshal.Cast<byte, T>(dense.bytes).ToArray();
    }
}
