using System.Runtime.InteropServices;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.Survival;
using Microsoft.ML.PaperExtensions.Tests.Survival;
using TorchSharp;

namespace Microsoft.ML.PaperExtensions.Tests.Training;

[TestClass]
public sealed class ThreadPolicyTests
{
    private static readonly SurvivalSimulation.Truth Weibull = new(Tau0: 0, Beta0: -0.5, Beta1: 0.8, Alpha0: 0.2, Alpha1: 0, Kappa: 1);

    [TestMethod]
    public void FitsOnTwoThreadsAtOnceKeepTheirOwnThreadCountsAndResults()
    {
        var info = TorchRuntime.EnsureInitialized();
        if (info.DefaultThreads < 2)
        {
            Assert.Inconclusive("libtorch runs on one thread here, so the two fits cannot differ.");
        }
        // 450,000 rows x 5 parameters is above the one-thread threshold (2 million); 2,000 rows are below it.
        var large = SurvivalSimulation.Draw(Weibull, 450_000, seed: 3);
        var small = SurvivalSimulation.Draw(Weibull, 2_000, seed: 4);
        var (soloLarge, _) = Fit(large);
        var (soloSmall, _) = Fit(small);

        (double LogLikelihood, HashSet<int> Threads) concurrentLarge = default, concurrentSmall = default;
        using var start = new Barrier(2);
        var a = new Thread(() => { start.SignalAndWait(); concurrentLarge = Fit(large); });
        var b = new Thread(() => { start.SignalAndWait(); concurrentSmall = Fit(small); });
        a.Start(); b.Start(); a.Join(); b.Join();

        CollectionAssert.AreEquivalent(new[] { info.DefaultThreads }, concurrentLarge.Threads!.ToArray(), "the large fit runs on libtorch's default count throughout");
        CollectionAssert.AreEquivalent(new[] { 1 }, concurrentSmall.Threads!.ToArray(), "the small fit runs on one thread throughout");
        Assert.AreEqual(soloLarge, concurrentLarge.LogLikelihood, "a fit beside another gives the same result as alone");
        Assert.AreEqual(soloSmall, concurrentSmall.LogLikelihood);
    }

    [TestMethod]
    public void TheOpenMpWaitPolicyIsPassiveInTheProcessEnvironment()
    {
        var info = TorchRuntime.EnsureInitialized();
        Assert.AreEqual(TorchRuntime.OpenMpWaitPolicy, info.OpenMpWaitPolicy, "set before libtorch loaded, unless the user set another");
        Assert.AreEqual(TorchRuntime.OpenMpWaitPolicy, Marshal.PtrToStringUTF8(getenv(TorchRuntime.OpenMpWaitPolicyVariable)), "visible to native code, where OpenMP reads it");
    }

    /// <summary>Fits a Weibull model and records libtorch's thread count on the fitting thread at every progress report.</summary>
    private static (double LogLikelihood, HashSet<int> Threads) Fit(SurvivalSimulation.Row[] rows)
    {
        var ml = new MLContext(seed: 1);
        var threads = new HashSet<int>();
        var options = new FlexibleSurvivalTrainer.Options { TimeColumnName = "Time", EventColumnName = "Event", PhFeatureColumnNames = ["X"], Kappa = 1, Device = ComputeDevice.Cpu };
        using var model = ml.Survival().Trainers.FlexibleParametric(options).Fit(ml.Data.LoadFromEnumerable(rows), CancellationToken.None,
            new InlineProgress(_ => threads.Add(torch.get_num_threads())));
        return (model.Model.LogLikelihood, threads);
    }

    [DllImport("libc")]
    private static extern IntPtr getenv(string name);

    private sealed class InlineProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
