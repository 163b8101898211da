using System.Runtime.InteropServices;
using Microsoft.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Runtime;

/// <summary>
/// The one place that initialises TorchSharp: native checks with a readable error, an optional libtorch folder
/// (<see cref="UseLibTorch"/> or the <c>LIBTORCH_DIR</c> environment variable), the OpenMP wait policy, and what a
/// <see cref="ComputeDevice"/> resolves to. What one fit uses (device, seed, threads, progress) lives in its own training
/// context, not here.
/// </summary>
/// <remarks>
/// Before libtorch loads, the runtime sets <c>OMP_WAIT_POLICY=PASSIVE</c> in the process environment unless it is already
/// set: libtorch's OpenMP workers otherwise spin while they wait, and on a machine whose cores are busy with other work two
/// spinning workers starve each other (a million-row survival fit beside one CPU-bound process took 110 s instead of 11 s).
/// The variable has to reach the C library's environment before OpenMP starts, which .NET's
/// <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not do on Linux, so it is set through <c>setenv</c>.
/// </remarks>
public static class TorchRuntime
{
    /// <summary>The environment variable that names a libtorch folder (for example PyTorch's <c>torch/lib</c>).</summary>
    public const string LibTorchDirectoryVariable = "LIBTORCH_DIR";

    // Load order that resolves every dependency by its soname before TorchSharp's glue is loaded (shared/gpu/README.md).
    private static readonly string[] LibTorchLoadOrder = ["libc10", "libtorch_cpu", "libc10_cuda", "libtorch_cuda", "libtorch"];

    private static readonly Lock Gate = new();
    private static TorchRuntimeInfo? _info;
    private static string? _requestedDirectory;

    /// <summary>
    /// Uses the libtorch found in <paramref name="directory"/> (for example a PyTorch install's <c>torch/lib</c>, which brings CUDA)
    /// instead of the libtorch of the application's TorchSharp package. Call it before any other TorchSharp use.
    /// </summary>
    /// <exception cref="ArgumentException">The folder does not exist or holds no libtorch.</exception>
    /// <exception cref="InvalidOperationException">TorchSharp was already initialised from another place.</exception>
    public static TorchRuntimeInfo UseLibTorch(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var full = Path.GetFullPath(directory);
        lock (Gate)
        {
            if (_info is not null)
            {
                if (string.Equals(_info.LibTorchDirectory, full, StringComparison.Ordinal))
                {
                    return _info;
                }
                throw new InvalidOperationException(
                    $"TorchSharp is already initialised (libtorch from '{_info.LibTorchDirectory ?? "the TorchSharp package"}'); " +
                    $"call {nameof(UseLibTorch)}('{full}') before any other TorchSharp use.");
            }
            _requestedDirectory = full;
        }
        return EnsureInitialized();
    }

    /// <summary>
    /// Initialises TorchSharp once: loads the libtorch folder when one was named (API or <c>LIBTORCH_DIR</c>), then CUDA
    /// if that libtorch has it. Every trainer calls this first.
    /// </summary>
    /// <exception cref="TorchRuntimeException">The native libraries could not be loaded; the message names the file and the fix.</exception>
    public static TorchRuntimeInfo EnsureInitialized()
    {
        lock (Gate)
        {
            return _info ??= Initialize(_requestedDirectory ?? NullIfEmpty(Environment.GetEnvironmentVariable(LibTorchDirectoryVariable)));
        }
    }

    /// <summary>The OpenMP variable the runtime sets before libtorch loads, and its value.</summary>
    public const string OpenMpWaitPolicyVariable = "OMP_WAIT_POLICY", OpenMpWaitPolicy = "PASSIVE";

    private static TorchRuntimeInfo Initialize(string? directory)
    {
        var waitPolicy = PreferPassiveOpenMpWait();
        FixMallocThreshold();
        var loaded = directory is null ? [] : LoadLibTorchFolder(Path.GetFullPath(directory));
        try
        {
            InitializeDeviceType(DeviceType.CPU);
        }
        catch (Exception e) when (e is not TorchRuntimeException)
        {
            throw Explain(e);
        }
        string? cudaProblem = null;
        if (loaded.Any(f => Path.GetFileName(f).StartsWith("libtorch_cuda", StringComparison.Ordinal)))
        {
            try
            {
                InitializeDeviceType(DeviceType.CUDA);
            }
            catch (Exception e)
            {
                // A CUDA libtorch on a machine without a usable GPU still runs on the CPU; the reason is kept for info.
                cudaProblem = e.Message.Split('\n')[0].Trim();
            }
        }
        var cuda = cuda_is_available();
        return new TorchRuntimeInfo(
            typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown",
            directory is null ? null : Path.GetFullPath(directory),
            loaded,
            cuda,
            cuda ? (int)torch.cuda.device_count() : 0,
            cudaProblem)
        {
            DefaultThreads = get_num_threads(),
            OpenMpWaitPolicy = waitPolicy,
        };
    }

    /// <summary>Sets OMP_WAIT_POLICY=PASSIVE in the C environment unless it is set; returns the policy in effect (null: OpenMP's default).</summary>
    private static string? PreferPassiveOpenMpWait()
    {
        var current = Environment.GetEnvironmentVariable(OpenMpWaitPolicyVariable);
        if (!string.IsNullOrEmpty(current) || OperatingSystem.IsWindows())
        {
            return NullIfEmpty(current);
        }
        try
        {
            return setenv(OpenMpWaitPolicyVariable, OpenMpWaitPolicy, overwrite: 0) == 0 ? OpenMpWaitPolicy : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Fixes glibc's mmap threshold at its default (128 KiB): glibc otherwise raises it after freeing large blocks, and then a
    /// long fit's many tensors of a few hundred KiB land on heaps that fragment. Measured on a 3.3-million-row survival fit:
    /// 740 MB of resident memory grew during the fit with the dynamic threshold, 34 MB with the fixed one. Not done when the
    /// user set MALLOC_MMAP_THRESHOLD_ or MALLOC_TRIM_THRESHOLD_.
    /// </summary>
    private static void FixMallocThreshold()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null)
        {
            return;
        }
        try
        {
            const int mmapThreshold = -3; // M_MMAP_THRESHOLD
            mallopt(mmapThreshold, 128 * 1024);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // not glibc: nothing to fix
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int parameter, int value);

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int setenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    private static List<string> LoadLibTorchFolder(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new ArgumentException($"The libtorch folder '{directory}' (from {nameof(UseLibTorch)} or {LibTorchDirectoryVariable}) does not exist.", nameof(directory));
        }
        // Two copies of libtorch in one process abort it (operators register twice), so an application that bundles its own
        // libtorch (the TorchSharp-cpu or libtorch-* packages) cannot take another one from a folder.
        var bundled = BundledLibTorch();
        if (bundled is not null && !string.Equals(Path.GetDirectoryName(bundled), directory.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
        {
            throw new TorchRuntimeException(
                $"The application bundles its own libtorch ('{bundled}'), so the libtorch in '{directory}' cannot be loaded beside it. " +
                $"To use a libtorch folder, reference the TorchSharp package alone (not TorchSharp-cpu or a libtorch-* package), or remove the bundled libtorch files when publishing.");
        }
        var loaded = new List<string>();
        foreach (var name in LibTorchLoadOrder)
        {
            var file = Path.Combine(directory, NativeFileName(name));
            if (!File.Exists(file))
            {
                if (name is "libtorch_cpu" or "libc10")
                {
                    throw new ArgumentException($"The libtorch folder '{directory}' has no '{Path.GetFileName(file)}'; it must hold libtorch's libraries (for PyTorch: .../site-packages/torch/lib).", nameof(directory));
                }
                continue;
            }
            try
            {
                NativeLibrary.Load(file);
            }
            catch (DllNotFoundException e)
            {
                throw new TorchRuntimeException(Explain(e).Message, e);
            }
            loaded.Add(file);
        }
        return loaded;
    }

    /// <summary>Builds the readable exception for a TorchSharp load failure, probing TorchSharp's glue for the loader's own words.</summary>
    private static TorchRuntimeException Explain(Exception e)
    {
        var text = NativeLoadFailure.AllMessages(e) + Environment.NewLine + ProbeGlue();
        var explanation = NativeLoadFailure.Explain(text)
            ?? $"TorchSharp could not initialise libtorch: {e.Message.Split('\n')[0].Trim()} {NativeLoadFailure.SetupHint}";
        return new TorchRuntimeException(explanation, e);
    }

    /// <summary>The libtorch_cpu shipped with the application, if any (package layout or flattened by a self-contained publish).</summary>
    private static string? BundledLibTorch()
    {
        var file = NativeFileName("libtorch_cpu");
        return new[] { Path.Combine(AppContext.BaseDirectory, file), Path.Combine(AppContext.BaseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", file) }
            .FirstOrDefault(File.Exists);
    }

    private static string ProbeGlue()
    {
        var name = OperatingSystem.IsWindows() ? "LibTorchSharp.dll" : OperatingSystem.IsMacOS() ? "libLibTorchSharp.dylib" : "libLibTorchSharp.so";
        var rid = RuntimeInformation.RuntimeIdentifier;
        foreach (var candidate in new[] { Path.Combine(AppContext.BaseDirectory, name), Path.Combine(AppContext.BaseDirectory, "runtimes", rid, "native", name) })
        {
            if (!File.Exists(candidate))
            {
                continue;
            }
            try
            {
                NativeLibrary.Load(candidate);
            }
            catch (DllNotFoundException probe)
            {
                return probe.Message;
            }
        }
        return "";
    }

    /// <summary>
    /// The torch device for <paramref name="device"/>, honouring <see cref="MLContext.GpuDeviceId"/> and
    /// <see cref="MLContext.FallbackToCpu"/> as ML.NET's own TorchSharp trainers do.
    /// </summary>
    /// <exception cref="InvalidOperationException">CUDA was asked for, is not available, and falling back to the CPU is not allowed.</exception>
    public static Device ResolveDevice(ComputeDevice device, MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        var info = EnsureInitialized();
        var gpu = mlContext.GpuDeviceId ?? 0;
        switch (device)
        {
            case ComputeDevice.Cpu:
                return CPU;
            case ComputeDevice.Auto when mlContext.GpuDeviceId is null:
                return info.CudaAvailable ? new Device(DeviceType.CUDA, 0) : CPU;
        }
        if (info.CudaAvailable && gpu < info.CudaDeviceCount)
        {
            return new Device(DeviceType.CUDA, gpu);
        }
        var why = info.CudaAvailable
            ? $"GPU {gpu} was asked for (MLContext.GpuDeviceId) but libtorch sees {info.CudaDeviceCount} GPU(s)"
            : info.CudaProblem is not null
                ? $"CUDA was asked for but could not be initialised ({info.CudaProblem})"
                : "CUDA was asked for but the loaded libtorch has no CUDA (use a CUDA libtorch through LIBTORCH_DIR)";
        if (!mlContext.FallbackToCpu)
        {
            throw new InvalidOperationException($"{why}; set MLContext.FallbackToCpu = true to run on the CPU instead.");
        }
        using (var channel = ((IHostEnvironment)mlContext).Register(nameof(TorchRuntime)).Start(nameof(TorchRuntime)))
        {
            channel.Warning(MessageSensitivity.None, $"{why}; falling back to the CPU (MLContext.FallbackToCpu).");
        }
        return CPU;
    }

    // libc10 -> libc10.so (Linux), libc10.dylib (macOS), c10.dll (Windows)
    private static string NativeFileName(string name) =>
        OperatingSystem.IsWindows() ? name["lib".Length..] + ".dll" : name + (OperatingSystem.IsMacOS() ? ".dylib" : ".so");

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}

/// <summary>What <see cref="TorchRuntime"/> loaded.</summary>
/// <param name="TorchSharpVersion">The TorchSharp assembly version.</param>
/// <param name="LibTorchDirectory">The libtorch folder used, or null for the TorchSharp package's own libtorch.</param>
/// <param name="LoadedFiles">The files loaded from <paramref name="LibTorchDirectory"/>, in load order.</param>
/// <param name="CudaAvailable">Whether libtorch can use CUDA.</param>
/// <param name="CudaDeviceCount">The number of CUDA devices libtorch sees.</param>
/// <param name="CudaProblem">Why CUDA could not be initialised although the libtorch folder has it, or null.</param>
public sealed record TorchRuntimeInfo(string TorchSharpVersion, string? LibTorchDirectory, IReadOnlyList<string> LoadedFiles, bool CudaAvailable, int CudaDeviceCount, string? CudaProblem = null)
{
    /// <summary>libtorch's intra-op thread count when it was initialised (the core count unless OMP_NUM_THREADS says otherwise); fits above the small-problem threshold use it.</summary>
    public int DefaultThreads { get; init; }

    /// <summary>The OpenMP wait policy in effect: PASSIVE as the runtime sets it, the user's own value, or null for OpenMP's default (spinning).</summary>
    public string? OpenMpWaitPolicy { get; init; }
}
