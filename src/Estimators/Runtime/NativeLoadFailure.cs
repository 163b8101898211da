using System.Text.RegularExpressions;

namespace Microsoft.ML.PaperExtensions.Runtime;

/// <summary>Turns the dynamic loader's error text into one sentence that names the file, the cause and the fix.</summary>
internal static partial class NativeLoadFailure
{
    internal const string SetupHint =
        "On Debian 12 run eng/setup-native.sh from the Microsoft.ML.PaperExtensions repository (it installs libstdc++6 from Debian 13, " +
        "pinned), or install a libstdc++ from GCC 13 or newer; alternatively set LIBTORCH_DIR to a libtorch folder built for this system.";

    // glibc: "<lib>: version `GLIBCXX_3.4.32' not found (required by <file>)"
    [GeneratedRegex(@"version [`'](?<symbol>[^`']+)' not found \(required by (?<file>[^)]+)\)")]
    private static partial Regex MissingVersion();

    // glibc: "<file>: cannot open shared object file: No such file or directory"
    [GeneratedRegex(@"(?<file>[^\s:]+\.so[^\s:]*): cannot open shared object file")]
    private static partial Regex MissingFile();

    // glibc: "<file>: undefined symbol: <symbol>"
    [GeneratedRegex(@"(?<file>[^\s:]+\.so[^\s:]*): undefined symbol: (?<symbol>\S+)")]
    private static partial Regex UndefinedSymbol();

    /// <summary>Explains the loader error found anywhere in <paramref name="error"/>, or returns null when none is recognised.</summary>
    internal static string? Explain(string error)
    {
        var m = MissingVersion().Match(error);
        if (m.Success)
        {
            return $"TorchSharp's native library '{Path.GetFileName(m.Groups["file"].Value.Trim())}' could not be loaded: " +
                   $"it needs the symbol version {m.Groups["symbol"].Value}, which this system's C++ runtime does not have. {SetupHint}";
        }
        m = UndefinedSymbol().Match(error);
        if (m.Success)
        {
            return $"TorchSharp's native library '{Path.GetFileName(m.Groups["file"].Value)}' could not be loaded: undefined symbol " +
                   $"{m.Groups["symbol"].Value}. The libtorch found does not match TorchSharp 0.107 (libtorch 2.10); point LIBTORCH_DIR at a matching libtorch.";
        }
        m = MissingFile().Match(error);
        if (m.Success)
        {
            return $"TorchSharp's native library '{m.Groups["file"].Value}' was not found. Reference the TorchSharp-cpu package (or a CUDA " +
                   "libtorch package) in the application, or set LIBTORCH_DIR to a folder that holds libtorch.";
        }
        return null;
    }

    /// <summary>All messages of an exception and its inner exceptions, joined.</summary>
    internal static string AllMessages(Exception exception)
    {
        var parts = new List<string>();
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            parts.Add(e.Message);
        }
        return string.Join(Environment.NewLine, parts);
    }
}
