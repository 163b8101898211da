using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.Tests.Onnx;
using Microsoft.ML.PaperExtensions.Tests.TestDoubles;
using TorchSharp;

namespace Microsoft.ML.PaperExtensions.Tests.Runtime;

[TestClass]
public sealed class TorchRuntimeTests
{
    [TestMethod]
    public void LoaderErrorForAMissingSymbolVersionNamesTheFileTheSymbolAndTheFix()
    {
        const string glibc = "/root/.nuget/packages/torchsharp/0.107.0/runtimes/linux-x64/native/libLibTorchSharp.so: " +
            "/lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.32' not found (required by /root/.nuget/packages/torchsharp/0.107.0/runtimes/linux-x64/native/libLibTorchSharp.so)";
        var message = NativeLoadFailure.Explain("TorchSharp failed.\n" + glibc);
        Assert.IsNotNull(message);
        StringAssert.Contains(message, "'libLibTorchSharp.so'");
        StringAssert.Contains(message, "GLIBCXX_3.4.32");
        StringAssert.Contains(message, "eng/setup-native.sh");
    }

    [TestMethod]
    public void LoaderErrorsForAMissingFileOrUndefinedSymbolAreExplained()
    {
        var missing = NativeLoadFailure.Explain("libtorch_cpu.so: cannot open shared object file: No such file or directory");
        StringAssert.Contains(missing, "'libtorch_cpu.so' was not found");
        StringAssert.Contains(missing, "TorchSharp-cpu");
        var undefined = NativeLoadFailure.Explain("/opt/torch/lib/libtorch_cpu.so: undefined symbol: _ZN3c104impl");
        StringAssert.Contains(undefined, "undefined symbol _ZN3c104impl");
        Assert.IsNull(NativeLoadFailure.Explain("some unrelated failure"));
    }

    [TestMethod]
    public void InitialisesOnceFromTheTorchSharpPackage()
    {
        var info = TorchRuntime.EnsureInitialized();
        Assert.AreSame(info, TorchRuntime.EnsureInitialized());
        Assert.IsNull(info.LibTorchDirectory);
        Assert.AreEqual("0.107.0.0", info.TorchSharpVersion);
        Assert.AreEqual(2.0, torch.ones(2).sum().item<float>());
    }

    [TestMethod]
    public void AnotherLibTorchFolderAfterInitialisationIsRefused()
    {
        TorchRuntime.EnsureInitialized();
        var error = Assert.Throws<InvalidOperationException>(() => TorchRuntime.UseLibTorch(Path.GetTempPath()));
        StringAssert.Contains(error.Message, "already initialised");
    }

    [TestMethod]
    public void DeviceChoiceHonoursGpuDeviceIdAndFallbackToCpu()
    {
        if (TorchRuntime.EnsureInitialized().CudaAvailable)
        {
            Assert.Inconclusive("This test describes a machine without CUDA.");
        }
        var ml = new MLContext(seed: 1);
        Assert.AreEqual(torch.CPU.type, TorchRuntime.ResolveDevice(ComputeDevice.Cpu, ml).type);
        Assert.AreEqual(torch.CPU.type, TorchRuntime.ResolveDevice(ComputeDevice.Auto, ml).type, "Auto without CUDA runs on the CPU");

        var cuda = Assert.Throws<InvalidOperationException>(() => TorchRuntime.ResolveDevice(ComputeDevice.Cuda, ml));
        StringAssert.Contains(cuda.Message, "FallbackToCpu");
        ml.GpuDeviceId = 0;
        Assert.Throws<InvalidOperationException>(() => TorchRuntime.ResolveDevice(ComputeDevice.Auto, ml), "a GPU asked for through MLContext.GpuDeviceId");

        ml.FallbackToCpu = true;
        var messages = new List<string>();
        ml.Log += (_, e) => messages.Add(e.Message);
        Assert.AreEqual(torch.CPU.type, TorchRuntime.ResolveDevice(ComputeDevice.Cuda, ml).type);
        Assert.IsTrue(messages.Any(m => m.Contains("falling back to the CPU")), string.Join("\n", messages));
    }

    [TestMethod]
    public void SeedComesFromTheOptionElseFromTheMLContext()
    {
        static int Seed(int? seed, int contextSeed) => new TrainingContext(new MLContext(seed: contextSeed), "test", ComputeDevice.Cpu, seed, null, default).Seed;
        Assert.AreEqual(42, Seed(42, 1));
        var a = Seed(null, 7);
        var b = Seed(null, 7);
        var c = Seed(null, 8);
        Assert.AreEqual(a, b, "same MLContext seed, same draw");
        Assert.AreNotEqual(a, c);
    }

    [TestMethod]
    public void MonitorReportsProgressLogsAndStopsWhenCancelled()
    {
        var ml = new MLContext(seed: 1);
        var logged = new List<string>();
        ml.Log += (_, e) => logged.Add(e.Message);
        var reports = new List<TrainingProgress>();
        using var cancellation = new CancellationTokenSource();
        var monitor = new TrainingMonitor(ml, "Demo", new SynchronousProgress(reports.Add), cancellation.Token);

        monitor.Report(new TrainingProgress("fit", 1, 10, 0.5));
        cancellation.Cancel();
        Assert.Throws<OperationCanceledException>(() => monitor.Report(new TrainingProgress("fit", 2, 10)));

        Assert.AreEqual(1, reports.Count);
        Assert.IsTrue(logged.Any(m => m.Contains("fit: step 1 of 10, objective 0.5")), string.Join("\n", logged));
    }

    [TestMethod]
    public void FittingLeavesNoLiveTensors()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(OnnxBackedTransformerTests.MakeRows(50, 2));
        TorchRuntime.EnsureInitialized();
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using var model = new LeastSquaresEstimator(ml, "Label", "Features", "Extra").Fit(data);
        Assert.AreEqual(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
