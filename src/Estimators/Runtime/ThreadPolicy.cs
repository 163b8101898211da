using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Runtime;

/// <summary>
/// libtorch's intra-op thread count for one fit.
/// </summary>
/// <remarks>
/// <para>What this guarantees: a fit sets the count on its own thread when it starts and restores the previous count when it
/// ends. libtorch (with its OpenMP backend) keeps the count per operating-system thread once that thread has used it, so
/// fits running at the same time on other threads (parallel AutoML trials) keep their own counts and their own results;
/// tests assert this. A thread that has never used libtorch takes the count last set anywhere, which is why every fit sets
/// its count explicitly, large fits included. A fit runs synchronously on the thread that called <c>Fit</c>.</para>
/// <para>The count depends only on the size of the work: one thread below <see cref="ParallelWorkThreshold"/> rows x
/// parameters (on small tensors the hand-off between threads costs more than the work: a 115-parameter ordinal fit ran 13
/// times faster on one thread than on two), else libtorch's default (<see cref="TorchRuntimeInfo.DefaultThreads"/>).</para>
/// </remarks>
internal static class ThreadPolicy
{
    /// <summary>Rows x parameters below which a fit runs libtorch on one intra-op thread.</summary>
    public const long ParallelWorkThreshold = 2_000_000;

    private static readonly AsyncLocal<int?> Limit = new();

    /// <summary>The count a fit of this size uses, at most the limit of the enclosing <see cref="LimitTo"/>.</summary>
    public static int ThreadsFor(long work) => work < ParallelWorkThreshold ? 1 : Math.Min(CurrentLimit ?? int.MaxValue, TorchRuntime.EnsureInitialized().DefaultThreads);

    /// <summary>The limit of the enclosing <see cref="LimitTo"/> (parallel AutoML trials share the cores), or null.</summary>
    public static int? CurrentLimit => Limit.Value;

    /// <summary>Caps the count of every fit in this execution context (it flows into tasks) until disposed.</summary>
    public static IDisposable LimitTo(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        var previous = Limit.Value;
        Limit.Value = threads;
        return new Unlimit(previous);
    }

    private sealed class Unlimit(int? previous) : IDisposable
    {
        public void Dispose() => Limit.Value = previous;
    }

    /// <summary>Sets the calling thread's intra-op count until the result is disposed (on the same thread).</summary>
    public static IDisposable Use(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        TorchRuntime.EnsureInitialized();
        // Reading first runs libtorch's per-thread initialisation, which would otherwise overwrite the count set below
        // with the process-wide default the first time this thread enters a parallel region.
        var previous = get_num_threads();
        set_num_threads(threads);
        return new Restore(previous, Environment.CurrentManagedThreadId);
    }

    private sealed class Restore(int previous, int threadId) : IDisposable
    {
        public void Dispose()
        {
            if (Environment.CurrentManagedThreadId == threadId)
            {
                set_num_threads(previous);
            }
        }
    }
}
