using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Microsoft.ML.PaperExtensions.Runtime;

/// <summary>
/// Holds the .NET finalizer thread while this package runs libtorch work, so that TorchSharp's <c>Scalar</c> finalizers
/// cannot free a scalar that a native call is still reading.
/// </summary>
/// <remarks>
/// <para>Why: TorchSharp 0.107 turns every number in tensor arithmetic into a finalizable <c>Scalar</c> (<c>1 - x</c>,
/// <c>x * 2.5</c>, <c>clamp_min(1e-12)</c>, and the implicit <c>alpha = 1</c> of every <c>a + b</c> and <c>a - b</c>)
/// and passes only its native pointer to libtorch, with nothing keeping the managed object alive during the call. A
/// garbage collection started by any other thread while the call runs can collect it, and the finalizer thread then
/// frees the native scalar under libtorch's feet: "Expected false to be true" (c10 Scalar::toDouble) or "Unknown scalar
/// type", and in principle a wrong value. Measured (<c>./build.sh bench scalar-race</c>, docs/benchmarks.md
/// "TorchSharp's scalar race and the finalizer gate"): with one other thread collecting every 100 ms, a loop of small
/// tensor operations failed after 8 collections.</para>
/// <para>How: the first thread to enter drops a sentinel object whose finalizer blocks, forces a collection of the
/// sentinel's generation, and waits until the finalizer thread is inside that finalizer. From then on no finalizer
/// runs, so no scalar is freed, until the gate opens: at a <see cref="SafePoint"/> of the only thread inside (between
/// steps, when no native call of ours is in flight) once <see cref="RecycleInterval"/> has passed, the queued
/// finalizers run and a new sentinel is placed; when the last thread has left, after <see cref="IdleRelease"/> (so that
/// batches of inference in quick succession do not pay a collection each). Other finalizers of the process wait as
/// long, at most <see cref="MaxHold"/> after the last sign of progress: that bounds the wait of a thread that calls
/// <c>GC.WaitForPendingFinalizers</c> (TorchSharp does when an allocation fails) and protects a step that runs longer
/// only until it reports again. While several threads are inside at once (parallel fits), the queued finalizers run
/// when all but one have left.</para>
/// </remarks>
internal static class TorchFinalizerGate
{
    /// <summary>How long the gate stays shut before a safe point lets the queued finalizers run.</summary>
    public static readonly TimeSpan RecycleInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long the gate stays shut after the last thread left. Short, because the runtime raises <c>ProcessExit</c> on the
    /// finalizer thread: a process that ends right after a fit waits this long (1 s made a 4 s command 1 s slower).
    /// </summary>
    public static readonly TimeSpan IdleRelease = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest the gate stays shut without a thread entering or reaching a safe point.</summary>
    public static readonly TimeSpan MaxHold = TimeSpan.FromSeconds(60);

    private static readonly Lock Sync = new();
    private static int _holders;
    private static long _lastActivity;
    private static Signal? _current;

    [ThreadStatic]
    private static int t_depth;

    /// <summary>Shuts the gate (when it is open) until the result is disposed on the same thread; nests.</summary>
    public static IDisposable Enter()
    {
        if (t_depth++ == 0)
        {
            lock (Sync)
            {
                _holders++;
                Touch();
                if (_current is not { Exited: false }) _current = Arm();
            }
        }
        return new Exit(Environment.CurrentManagedThreadId);
    }

    /// <summary>
    /// Marks a point between steps of the calling thread's work inside <see cref="Enter"/> (no native call of ours in flight):
    /// when it is the only thread inside and the gate has been shut for <see cref="RecycleInterval"/>, the queued finalizers run
    /// now and the gate shuts again before this returns.
    /// </summary>
    public static void SafePoint()
    {
        if (t_depth == 0) return;
        Touch();
        var signal = _current;
        // Lapsed: the sentinel let go (MaxHold) or never started; shutting again at once beats waiting for the next Enter.
        var lapsed = signal is null || signal.Exited;
        if (!lapsed && (Volatile.Read(ref _holders) != 1 || Stopwatch.GetElapsedTime(signal!.ArmedAt) < RecycleInterval)) return;
        lock (Sync)
        {
            if (!ReferenceEquals(_current, signal)) return;
            if (!lapsed)
            {
                if (_holders != 1) return;
                signal!.Open.Set();
                // Everything queued runs before the new sentinel is placed (the finalizer thread keeps no order of its own).
                GC.WaitForPendingFinalizers();
            }
            _current = Arm();
        }
    }

    /// <summary>Whether the finalizer thread is held now (for tests).</summary>
    internal static bool IsShut => _current is { Started.IsSet: true, Exited: false };

    private static void Touch() => Volatile.Write(ref _lastActivity, Stopwatch.GetTimestamp());

    private static Signal Arm()
    {
        var signal = new Signal();
        var sentinel = DropSentinel(signal);
        // A collection of the sentinel's generation finds it (0, unless another thread's collection promoted it while it was
        // still referenced); the finalizer thread reaches it after the finalizers queued before it. If another library's
        // finalizer holds that thread for long, the gate shuts late.
        for (var attempt = 0; attempt < 3 && !signal.Started.IsSet; attempt++)
        {
            if (sentinel.IsAlive) GC.Collect(GenerationOf(sentinel), GCCollectionMode.Forced, blocking: true);
            signal.Started.Wait(TimeSpan.FromSeconds(1));
        }
        return signal;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference DropSentinel(Signal signal) => new(new Sentinel(signal));

    private static int GenerationOf(WeakReference sentinel)
    {
        try
        {
            return GC.GetGeneration(sentinel);
        }
        catch (ArgumentException)
        {
            return 0; // collected between IsAlive and here: it is queued already
        }
    }

    private sealed class Signal
    {
        public readonly ManualResetEventSlim Started = new();
        public readonly ManualResetEventSlim Open = new();
        public long ArmedAt = Stopwatch.GetTimestamp();
        public volatile bool Exited;
    }

    private sealed class Sentinel(Signal signal)
    {
        ~Sentinel()
        {
            signal.ArmedAt = Stopwatch.GetTimestamp();
            signal.Started.Set();
            while (!signal.Open.Wait(20))
            {
                var quiet = Stopwatch.GetElapsedTime(Volatile.Read(ref _lastActivity));
                // TryEnter: a thread that holds the lock may be waiting for this finalizer thread (SafePoint, Enter).
                if (quiet < IdleRelease || !Sync.TryEnter()) continue;
                try
                {
                    if (quiet >= MaxHold || _holders == 0)
                    {
                        signal.Exited = true;
                        return;
                    }
                }
                finally
                {
                    Sync.Exit();
                }
            }
            signal.Exited = true;
        }
    }

    private sealed class Exit(int threadId) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed || Environment.CurrentManagedThreadId != threadId) return;
            _disposed = true;
            if (--t_depth > 0) return;
            lock (Sync)
            {
                _holders--;
                Touch();
            }
        }
    }
}
