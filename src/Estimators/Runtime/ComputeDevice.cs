namespace Microsoft.ML.PaperExtensions.Runtime;

/// <summary>Where a trainer runs its tensor work.</summary>
public enum ComputeDevice
{
    /// <summary>
    /// CUDA when libtorch has it (on <see cref="MLContext.GpuDeviceId"/>, or device 0 when that is not set), else the CPU.
    /// </summary>
    Auto,

    /// <summary>Always the CPU.</summary>
    Cpu,

    /// <summary>
    /// CUDA on <see cref="MLContext.GpuDeviceId"/> (device 0 when not set). When CUDA is not available this fails,
    /// unless <see cref="MLContext.FallbackToCpu"/> is true, in which case the CPU is used and a warning is logged.
    /// </summary>
    Cuda,
}
