using System.Globalization;

namespace PaperExtensions.Cli.Tests;

[TestClass]
public sealed class CliTests
{
    [TestMethod]
    public void HelpListsTheCommands()
    {
        var result = CliProcess.Run("--help");
        Assert.AreEqual(0, result.ExitCode, result.Error);
        StringAssert.Contains(result.Output, "info");
        StringAssert.Contains(result.Output, "concordance");
    }

    [TestMethod]
    public void ConcordanceJsonIsOneObjectOnStandardOutputAndMatchesR()
    {
        var result = CliProcess.Run("concordance", "--data", CliProcess.DataFile("lung.csv"), "--time", "time", "--event", "status", "--event-value", "2", "--score", "age", "--json");
        Assert.AreEqual(0, result.ExitCode, result.Error);
        var json = result.Json();
        Assert.AreEqual(228, json.GetProperty("n").GetInt32());
        Assert.AreEqual(165, json.GetProperty("events").GetInt32());
        // R survival::concordance, Data/reference/concordance.csv, case lung_age.
        Assert.AreEqual(0.449760167882482, json.GetProperty("concordanceIndex").GetDouble(), 1e-12);
        Assert.AreEqual(8706, json.GetProperty("concordant").GetInt64());
    }

    [TestMethod]
    public void ErrorsAreOneLineOnStandardErrorWithANonZeroExitCode()
    {
        var missingColumn = CliProcess.Run("concordance", "--data", CliProcess.DataFile("veteran.csv"), "--time", "time", "--event", "status", "--score", "nope", "--json");
        Assert.AreEqual(1, missingColumn.ExitCode);
        Assert.AreEqual("", missingColumn.Output, "nothing on standard output");
        StringAssert.StartsWith(missingColumn.Error, "mlnet-papers: --score names column 'nope'");
        Assert.AreEqual(1, missingColumn.Error.TrimEnd().Split('\n').Length, missingColumn.Error);

        // An event value that matches no row would make every row censored and fail later with a puzzling message.
        var noEvent = CliProcess.Run("concordance", "--data", CliProcess.DataFile("veteran.csv"), "--time", "time", "--event", "status", "--score", "karno", "--event-value", "2");
        Assert.AreEqual(1, noEvent.ExitCode);
        Assert.AreEqual("mlnet-papers: --event-value '2' occurs in no row of --event column 'status'.", noEvent.Error.TrimEnd());

        var usage = CliProcess.Run("concordance", "--data", CliProcess.DataFile("veteran.csv"));
        Assert.AreEqual(2, usage.ExitCode);
        StringAssert.Contains(usage.Error, "Option '--time' is required.");
        Assert.AreEqual(1, usage.Error.TrimEnd().Split('\n').Length, usage.Error);
    }

    [TestMethod]
    public void EveryTrainingCommandTakesDeviceAndRefusesCudaWithoutIt()
    {
        string[][] commands =
        [
            ["ordinal", "--data", CliProcess.DataFile("soup.csv"), "--label", "SURENESS", "--categorical", "PROD", "--lambda", "0"],
            ["survival", "--data", CliProcess.DataFile("veteran.csv"), "--time", "time", "--event", "status", "--ph", "karno", "--kappa", "1"],
            ["semisupervised", "--train", CliProcess.DataFile("digits.csv"), "--label", "label"],
        ];
        foreach (var command in commands)
        {
            // The CLI's own libtorch is the CPU build, so CUDA is refused with the reason, not silently replaced by the CPU.
            var cuda = CliProcess.Run([.. command, "--device", "cuda", "--json"]);
            Assert.AreEqual(1, cuda.ExitCode, $"{command[0]}: {cuda.Error}");
            Assert.AreEqual("", cuda.Output, command[0]);
            StringAssert.Contains(cuda.Error, "CUDA was asked for but the loaded libtorch has no CUDA", command[0]);

            var unknown = CliProcess.Run([.. command, "--device", "gpu"]);
            Assert.AreEqual(2, unknown.ExitCode, command[0]);
            Assert.AreEqual("mlnet-papers: --device: Argument 'gpu' not recognized. Must be one of: 'auto' 'cpu' 'cuda' (see --help)", unknown.Error.TrimEnd(), command[0]);
        }
        var onCpu = CliProcess.Run([.. commands[0], "--device", "cpu", "--json"]);
        Assert.AreEqual(0, onCpu.ExitCode, onCpu.Error);
        Assert.AreEqual(CliProcess.Run([.. commands[0], "--json"]).Json().GetProperty("logLikelihood").GetDouble(), onCpu.Json().GetProperty("logLikelihood").GetDouble(), "Auto is the CPU here");
    }

    [TestMethod]
    public void InfoReportsTheTorchSharpPackagesLibTorchByDefault()
    {
        var result = CliProcess.Run("info", "--json");
        Assert.AreEqual(0, result.ExitCode, result.Error);
        var json = result.Json();
        Assert.AreEqual("0.107.0.0", json.GetProperty("torchSharpVersion").GetString());
        Assert.AreEqual(System.Text.Json.JsonValueKind.Null, json.GetProperty("libTorchDirectory").ValueKind);
    }

    [TestMethod]
    public void LibTorchDirLoadsLibTorchFromThatFolder()
    {
        var folder = NuGetLibTorchFolder();
        var app = CliProcess.CopyWithoutBundledLibTorch();
        CliProcess.Result result;
        try
        {
            result = CliProcess.RunFrom(app, new Dictionary<string, string> { ["LIBTORCH_DIR"] = folder }, "info", "--json");
        }
        finally
        {
            Directory.Delete(app, recursive: true);
        }
        Assert.AreEqual(0, result.ExitCode, result.Error);
        var json = result.Json();
        Assert.AreEqual(folder, json.GetProperty("libTorchDirectory").GetString());
        var loaded = json.GetProperty("loadedFiles").EnumerateArray().Select(f => Path.GetFileName(f.GetString())).ToList();
        CollectionAssert.AreEqual(new[] { "libc10.so", "libtorch_cpu.so", "libtorch.so" }, loaded, "load order, without the CUDA files a CPU libtorch lacks");
        StringAssert.StartsWith(json.GetProperty("libTorchCpuFile").GetString(), folder, "the process mapped libtorch_cpu from LIBTORCH_DIR");
    }

    [TestMethod]
    public void LibTorchDirBesideABundledLibTorchIsRefusedInsteadOfCrashing()
    {
        var result = CliProcess.Run(new Dictionary<string, string> { ["LIBTORCH_DIR"] = NuGetLibTorchFolder() }, "info", "--json");
        Assert.AreEqual(1, result.ExitCode, result.Error);
        StringAssert.Contains(result.Error, "The application bundles its own libtorch");
        Assert.AreEqual("", result.Output);
    }

    [TestMethod]
    public void AMissingLibTorchFolderIsNamedInTheError()
    {
        var result = CliProcess.Run("info", "--libtorch", "/nonexistent/torch/lib");
        Assert.AreEqual(1, result.ExitCode);
        StringAssert.Contains(result.Error, "The libtorch folder '/nonexistent/torch/lib'");
    }

    /// <summary>The CPU libtorch of the libtorch-cpu-linux-x64 package in the NuGet cache: a libtorch folder like PyTorch's torch/lib.</summary>
    private static string NuGetLibTorchFolder()
    {
        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var package = Path.Combine(root, "libtorch-cpu-linux-x64");
        var folder = Directory.Exists(package)
            ? Directory.GetDirectories(package).Select(v => Path.Combine(v, "runtimes", "linux-x64", "native")).FirstOrDefault(d => File.Exists(Path.Combine(d, "libtorch_cpu.so")))
            : null;
        if (folder is null)
        {
            Assert.Inconclusive($"No libtorch-cpu-linux-x64 package under {root}.");
        }
        return folder;
    }
}
