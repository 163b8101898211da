using Microsoft.ML.Runtime;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Runtime;

/// <summary>
/// What one fit uses besides its data and settings: the ML.NET context, the resolved device, the seed (resolved on first
/// use, so a fit that needs none draws nothing from the MLContext), progress and cancellation, logging, and the thread
/// policy. The trainer base builds one per <c>Fit</c>.
/// </summary>
internal sealed class TrainingContext
{
    private readonly int? _seed;
    private int? _resolvedSeed;

    public TrainingContext(MLContext mlContext, string componentName, ComputeDevice device, int? seed, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        MLContext = mlContext;
        ComponentName = componentName;
        _seed = seed;
        Device = TorchRuntime.ResolveDevice(device, mlContext);
        Monitor = new TrainingMonitor(mlContext, componentName, progress, cancellationToken);
    }

    public MLContext MLContext { get; }

    /// <summary>The trainer's name, used in log messages.</summary>
    public string ComponentName { get; }

    /// <summary>Where the fit's tensors live.</summary>
    public Device Device { get; }

    /// <summary>The seed of the options, else one drawn from the MLContext's random source (once).</summary>
    public int Seed => _resolvedSeed ??= _seed ?? ((IHostEnvironment)MLContext).Register(ComponentName).Rand.Next();

    public TrainingMonitor Monitor { get; }

    public CancellationToken CancellationToken => Monitor.CancellationToken;

    /// <summary>libtorch's thread count for a fit of this size (rows x parameters), until disposed; see <see cref="ThreadPolicy"/>.</summary>
    public IDisposable Threads(long work) => ThreadPolicy.Use(ThreadPolicy.ThreadsFor(work));

    /// <summary>An informational message on <see cref="MLContext.Log"/>.</summary>
    public void Info(string message) => Log(MLContext, ComponentName, message, warning: false);

    /// <summary>A warning on <see cref="MLContext.Log"/> (for example a fit that did not converge).</summary>
    public void Warning(string message) => Log(MLContext, ComponentName, message, warning: true);

    /// <summary>Writes a message to <see cref="MLContext.Log"/> under the component's name.</summary>
    public static void Log(MLContext mlContext, string componentName, string message, bool warning = false)
    {
        using var channel = ((IHostEnvironment)mlContext).Register(componentName).Start(componentName);
        if (warning) channel.Warning(MessageSensitivity.None, message);
        else channel.Info(MessageSensitivity.None, message);
    }
}
