using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Text.Json.Serialization;
using Microsoft.ML.PaperExtensions.Runtime;

namespace PaperExtensions.Cli;

/// <summary>
/// What every subcommand shares: errors become one line on standard error and a non-zero exit code, and with --json
/// standard output holds exactly one JSON object (progress and logs go to standard error).
/// </summary>
internal static class CliRunner
{
    public const int Failure = 1;
    public const int Usage = 2;
    public const int Cancelled = 130;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The --json option every subcommand has.</summary>
    public static Option<bool> JsonOption() => new("--json") { Description = "Print one JSON object on standard output and nothing else." };

    /// <summary>The --device option of every training subcommand: auto (CUDA when libtorch has it), cpu or cuda.</summary>
    public static Option<string> DeviceOption()
    {
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda.", DefaultValueFactory = _ => "auto" };
        device.AcceptOnlyFromAmong("auto", "cpu", "cuda");
        return device;
    }

    /// <summary>The training device a parsed --device names.</summary>
    public static ComputeDevice Device(ParseResult parse, Option<string> device) => Enum.Parse<ComputeDevice>(parse.GetValue(device)!, ignoreCase: true);

    /// <summary>An MLContext whose warnings (a fit that did not converge, a likelihood without an interior maximum) go to standard error.</summary>
    public static Microsoft.ML.MLContext Context(int? seed = null)
    {
        var ml = new Microsoft.ML.MLContext(seed);
        ml.Log += (_, e) =>
        {
            if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning) Console.Error.WriteLine("mlnet-papers: warning: " + e.RawMessage.ReplaceLineEndings(" "));
        };
        return ml;
    }

    /// <summary>The --seed option of every training command.</summary>
    public static Option<int> SeedOption() => new("--seed") { Description = "Seed of everything random in the fit (folds, initial weights, batches).", DefaultValueFactory = _ => 1 };

    /// <summary>Refuses to write <paramref name="path"/> when it is one of the input files.</summary>
    public static void RefuseOverwrite(string path, string option, params string[] inputs)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (inputs.Any(input => string.Equals(System.IO.Path.GetFullPath(input), full, StringComparison.Ordinal)))
        {
            throw new ArgumentException($"{option} '{path}' is an input file of this command; choose another file so that the input is not overwritten.");
        }
    }

    /// <summary>Runs <paramref name="work"/>; a value a trainer refuses is reported at its line of <paramref name="source"/>.</summary>
    public static T Explained<T>(CsvSource source, Func<T> work)
    {
        try
        {
            return work();
        }
        catch (Microsoft.ML.PaperExtensions.Data.DataValueException e)
        {
            throw source.Explain(e);
        }
    }

    /// <summary>The number of rows of a view (a full pass when it does not know).</summary>
    public static long CountRows(Microsoft.ML.IDataView view)
    {
        if (view.GetRowCount() is { } known) return known;
        using var cursor = view.GetRowCursor([]);
        var count = 0L;
        while (cursor.MoveNext()) count++;
        return count;
    }

    /// <summary>A required option.</summary>
    public static Option<T> Required<T>(string name, string description) => new(name) { Description = description, Required = true };

    /// <summary>Parses and runs; never lets an exception's trace reach the user.</summary>
    public static async Task<int> RunAsync(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            await Console.Error.WriteLineAsync("mlnet-papers: " + string.Join(" ", parse.Errors.Select(Describe)) + " (see --help)");
            return Usage;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("mlnet-papers: cancelled.");
            return Cancelled;
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync("mlnet-papers: " + OneLine(e));
            return Failure;
        }
    }

    // One line that names the option: System.CommandLine's message for a value outside AcceptOnlyFromAmong names the value
    // only and lists the allowed ones on several lines; a conversion error names .NET types (System.Nullable`1[System.Double]).
    private static string Describe(ParseError error)
    {
        var message = Regex.Replace(error.Message, @"\s*\n\s*", " ");
        message = Regex.Replace(message, @"System\.Nullable`1\[System\.(\w+)\]|System\.(\w+)", m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value);
        return (error.SymbolResult as OptionResult ?? error.SymbolResult?.Parent as OptionResult) is { } option && !message.Contains(option.Option.Name, StringComparison.Ordinal)
            ? $"{option.Option.Name}: {message}"
            : message;
    }

    /// <summary>Writes <paramref name="value"/> as the one JSON object of standard output.</summary>
    public static void WriteJson(object value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, value.GetType(), Json));

    private static string OneLine(Exception e)
    {
        var inner = e is System.Reflection.TargetInvocationException or AggregateException && e.InnerException is not null ? e.InnerException : e;
        return inner.Message.ReplaceLineEndings(" ");
    }
}
