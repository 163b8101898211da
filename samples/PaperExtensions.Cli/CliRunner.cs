using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;

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

    /// <summary>A required option.</summary>
    public static Option<T> Required<T>(string name, string description) => new(name) { Description = description, Required = true };

    /// <summary>Parses and runs; never lets an exception's trace reach the user.</summary>
    public static async Task<int> RunAsync(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            await Console.Error.WriteLineAsync("mlnet-papers: " + string.Join(" ", parse.Errors.Select(e => e.Message)) + " (see --help)");
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

    /// <summary>Writes <paramref name="value"/> as the one JSON object of standard output.</summary>
    public static void WriteJson(object value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, value.GetType(), Json));

    private static string OneLine(Exception e)
    {
        var inner = e is System.Reflection.TargetInvocationException or AggregateException && e.InnerException is not null ? e.InnerException : e;
        return inner.Message.ReplaceLineEndings(" ");
    }
}
