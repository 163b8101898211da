using Microsoft.ML.PaperExtensions.Runtime;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Tests.Runtime;

/// <summary>
/// TorchSharp 0.107 lets a collection on another thread free the temporary Scalars of tensor arithmetic while libtorch reads
/// them. How often that hits depends on load. With <c>TorchFinalizerGate.Enter()</c> removed, the first test's loop failed
/// in 2 runs of 2 beside a benchmark (one collection per 2 ms then) and in 3 of 3 on a quiet machine with collections as fast
/// as one thread can start them; on a quiet machine at one collection per millisecond the same loop in the benchmark ran
/// 5 s without failing 3 times of 3, so there this test can pass without the gate. The second test checks the mechanism
/// itself (no finalizer runs while the gate is shut), which does not depend on luck. The benchmark: docs/benchmarks.md,
/// "TorchSharp's scalar race and the finalizer gate".
/// </summary>
[TestClass]
public sealed class TorchFinalizerGateTests
{
    [TestMethod]
    public void ScalarArithmeticInsideTheGateSurvivesCollectionsStartedByAnotherThread()
    {
        TorchRuntime.EnsureInitialized();
        var values = Enumerable.Range(0, 1000).Select(i => i / 1000.0).ToArray();
        var expected = values.Select(v => Math.Max((1 - v) * 2.5, 0.5)).ToArray();
        using var x = tensor(values, ScalarType.Float64);
        long operations = 0;
        using (Collecting(TimeSpan.FromMilliseconds(1)))
        using (TorchFinalizerGate.Enter())
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            while (watch.Elapsed < TimeSpan.FromSeconds(3))
            {
                using var scope = NewDisposeScope();
                var y = ((1 - x) * 2.5).clamp_min(0.5) + x - x;
                operations += 5;
                if (operations % 500 == 0)
                {
                    var actual = y.data<double>().ToArray();
                    Assert.IsLessThan(1e-12, expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max(), $"values after {operations} operations");
                }
                TorchFinalizerGate.SafePoint();
            }
        }
        Assert.IsGreaterThan(10_000L, operations);
    }

    [TestMethod]
    public void QueuedFinalizersWaitWhileShutAndRunAtASafePointAndAfterTheLastThreadLeft()
    {
        TorchRuntime.EnsureInitialized();
        var finalized = new Counter();
        using (TorchFinalizerGate.Enter())
        {
            Assert.IsTrue(TorchFinalizerGate.IsShut);
            DropFinalizable(finalized);
            GC.Collect();
            Thread.Sleep(300);
            Assert.AreEqual(0, finalized.Value, "a finalizer ran while the gate was shut");

            Thread.Sleep(TorchFinalizerGate.RecycleInterval);
            TorchFinalizerGate.SafePoint();
            Assert.IsTrue(SpinWait.SpinUntil(() => finalized.Value == 1, TimeSpan.FromSeconds(5)), "the safe point did not let the queued finalizer run");
            Assert.IsTrue(TorchFinalizerGate.IsShut, "the gate did not shut again after the safe point");

            DropFinalizable(finalized);
            GC.Collect();
            Thread.Sleep(300);
            Assert.AreEqual(1, finalized.Value, "a finalizer ran while the gate was shut again");
        }
        Assert.IsTrue(SpinWait.SpinUntil(() => finalized.Value == 2, TorchFinalizerGate.IdleRelease + TimeSpan.FromSeconds(5)), "the gate stayed shut after the last thread left");
        Assert.IsFalse(TorchFinalizerGate.IsShut);
    }

    private sealed class Counter
    {
        public int Value;
    }

    private sealed class Finalizable(Counter counter)
    {
        ~Finalizable() => Interlocked.Increment(ref counter.Value);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void DropFinalizable(Counter counter) => _ = new Finalizable(counter);

    /// <summary>Another thread that starts a generation-0 collection every <paramref name="period"/> until disposed.</summary>
    private static IDisposable Collecting(TimeSpan period)
    {
        var stop = new CancellationTokenSource();
        var thread = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                Thread.Sleep(period);
                GC.Collect(0);
            }
        }) { IsBackground = true };
        thread.Start();
        return new Stop(stop, thread);
    }

    private sealed class Stop(CancellationTokenSource source, Thread thread) : IDisposable
    {
        public void Dispose()
        {
            source.Cancel();
            thread.Join();
            source.Dispose();
        }
    }
}
