using Microsoft.ML;
using System.CommandLine;
using Microsoft.ML.PaperExtensions.Runtime;
using Spectre.Console;

namespace PaperExtensions.Cli;

/// <summary><c>mlnet-papers info</c>: which TorchSharp and libtorch are loaded, and which device training would use.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var libtorch = new Option<string?>("--libtorch") { Description = $"Use the libtorch in this folder (default: ${TorchRuntime.LibTorchDirectoryVariable}, else the TorchSharp package's)." };
        var json = CliRunner.JsonOption();
        var command = new Command("info", "Show the TorchSharp runtime: version, libtorch location, CUDA, and the device Auto resolves to.") { libtorch, json };
        command.SetAction(parse =>
        {
            var folder = parse.GetValue(libtorch);
            var info = folder is null ? TorchRuntime.EnsureInitialized() : TorchRuntime.UseLibTorch(folder);
            var device = TorchRuntime.ResolveDevice(ComputeDevice.Auto, new MLContext()).ToString();
            var report = new
            {
                info.TorchSharpVersion,
                info.LibTorchDirectory,
                info.LoadedFiles,
                LibTorchCpuFile = MappedFile("libtorch_cpu"),
                info.CudaAvailable,
                info.CudaDeviceCount,
                info.CudaProblem,
                AutoDevice = device,
            };
            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(report);
                return 0;
            }
            var table = new Table().AddColumns("", "").HideHeaders();
            table.AddRow("TorchSharp", info.TorchSharpVersion);
            table.AddRow("libtorch folder", Markup.Escape(info.LibTorchDirectory ?? "(TorchSharp package)"));
            table.AddRow("libtorch_cpu loaded from", Markup.Escape(report.LibTorchCpuFile ?? "(unknown)"));
            table.AddRow("CUDA", info.CudaAvailable ? $"yes, {info.CudaDeviceCount} device(s)" : Markup.Escape("no" + (info.CudaProblem is null ? "" : $" ({info.CudaProblem})")));
            table.AddRow("Auto device", device);
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    /// <summary>The path of the first mapped file whose name starts with <paramref name="prefix"/> (Linux only).</summary>
    private static string? MappedFile(string prefix)
    {
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps))
        {
            return null;
        }
        return File.ReadLines(maps)
            .Select(line => line.IndexOf('/') is var at and >= 0 ? line[at..] : null)
            .FirstOrDefault(path => path is not null && Path.GetFileName(path).StartsWith(prefix + ".", StringComparison.Ordinal));
    }
}
