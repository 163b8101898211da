using System.Diagnostics;
using System.Text.Json;

namespace PaperExtensions.Cli.Tests;

/// <summary>Runs <c>mlnet-papers</c> in its own process, as a user would.</summary>
internal static class CliProcess
{
    internal sealed record Result(int ExitCode, string Output, string Error)
    {
        public JsonElement Json() => JsonDocument.Parse(Output).RootElement;
    }

    public static Result Run(IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        RunFrom(AppContext.BaseDirectory, environment, args);

    /// <summary>Runs the copy of the application in <paramref name="folder"/>.</summary>
    public static Result RunFrom(string folder, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(folder, "mlnet-papers.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment.Remove("LIBTORCH_DIR");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"mlnet-papers {string.Join(' ', args)} did not finish in 2 minutes");
        }
        return new Result(process.ExitCode, output.Result, error.Result);
    }

    public static Result Run(params string[] args) => Run(null, args);

    /// <summary>
    /// Copies the application without the libtorch that the TorchSharp-cpu package bundles (as ../shared/gpu/pack.sh does
    /// for the GPU machine), so that it must take libtorch from LIBTORCH_DIR. Only linux-x64 native files are copied.
    /// </summary>
    public static string CopyWithoutBundledLibTorch()
    {
        var target = Path.Combine(Path.GetTempPath(), $"mlnet-papers-{Guid.NewGuid():N}");
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(AppContext.BaseDirectory))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
        var native = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");
        var nativeTarget = Directory.CreateDirectory(Path.Combine(target, "runtimes", "linux-x64", "native")).FullName;
        foreach (var file in Directory.GetFiles(native).Where(f => !IsLibTorch(Path.GetFileName(f))))
        {
            File.Copy(file, Path.Combine(nativeTarget, Path.GetFileName(file)));
        }
        return target;

        static bool IsLibTorch(string name) =>
            name.StartsWith("libtorch", StringComparison.Ordinal) || name.StartsWith("libc10", StringComparison.Ordinal)
            || name.StartsWith("libgomp", StringComparison.Ordinal) || name.StartsWith("libshm", StringComparison.Ordinal)
            || name is "libbackend_with_compiler.so" or "libjitbackend_test.so" or "libnnapi_backend.so" or "libaoti_custom_ops.so";
    }

    public static string DataFile(string name) => Path.Combine(AppContext.BaseDirectory, "Data", name);
}
