using System.Diagnostics;
using Microsoft.ML.PaperExtensions.Runtime;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Benchmarks;

/// <summary>
/// TorchSharp's scalar race (see <see cref="TorchFinalizerGate"/>): <c>1 - x</c>, <c>* 2.5</c> and <c>clamp_min</c> on a
/// tensor of <c>size</c> doubles for <c>seconds</c>, with or without the gate, while another thread allocates in a loop
/// (<c>other</c> 1), starts a generation-0 collection every 100 ms (2, a busy application's rate) or every millisecond (3), or
/// does nothing (0).
/// Prints how long it ran and how many collections it saw, or the native error that stopped it.
/// </summary>
internal static class ScalarRaceProbe
{
    public static void Run(int seconds, int other, int size, bool gated)
    {
        TorchRuntime.EnsureInitialized();
        var watch = Stopwatch.StartNew();
        var done = false;
        var thread = new Thread(() =>
        {
            var keep = new object[64];
            var i = 0;
            while (!Volatile.Read(ref done))
            {
                if (other == 1) keep[i++ & 63] = new byte[256];
                else { Thread.Sleep(other == 2 ? 100 : 1); GC.Collect(0); }
            }
        }) { IsBackground = true };
        if (other > 0) thread.Start();
        using var x = rand(size, ScalarType.Float64);
        long ops = 0;
        using var gate = gated ? TorchFinalizerGate.Enter() : null;
        try
        {
            while (watch.Elapsed.TotalSeconds < seconds)
            {
                using var scope = NewDisposeScope();
                var y = 1 - x;
                var z = (y * 2.5).clamp_min(1e-300);
                ops += 3;
                if (gated) TorchFinalizerGate.SafePoint();
            }
            Console.WriteLine($"ok (gated {gated}): {ops} ops in {watch.Elapsed.TotalSeconds:F1} s, {GC.CollectionCount(0)} gen0 GCs");
        }
        catch (Exception e)
        {
            Console.WriteLine($"failed (gated {gated}) after {ops} ops, {watch.Elapsed.TotalSeconds:F1} s, {GC.CollectionCount(0)} gen0 GCs: {e.Message.Split('\n')[0]}");
        }
        finally { Volatile.Write(ref done, true); }
    }
}
