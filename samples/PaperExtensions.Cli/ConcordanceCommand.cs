using Microsoft.ML;
using Microsoft.ML.Data;
using System.CommandLine;
using Microsoft.ML.PaperExtensions.Metrics;
using Spectre.Console;

namespace PaperExtensions.Cli;

/// <summary><c>mlnet-papers concordance</c>: Harrell's C-index of a prediction column against right-censored times.</summary>
internal static class ConcordanceCommand
{
    public static Command Create()
    {
        var data = CliRunner.Required<string>("--data", "CSV file with a header row.");
        var time = CliRunner.Required<string>("--time", "Column of observed times (> 0).");
        var eventColumn = CliRunner.Required<string>("--event", "Column that says whether the time is an event: 0/1 or true/false, or see --event-value.");
        var eventValue = new Option<string?>("--event-value") { Description = "The text of --event that means an event (for example 2 in R's lung data); every other value is censored." };
        var score = CliRunner.Required<string>("--score", "Column of predictions: a predicted time or survival probability (higher = longer survival).");
        var risk = new Option<bool>("--risk") { Description = "The score is a risk (higher = earlier event)." };
        var json = CliRunner.JsonOption();
        var command = new Command("concordance", "Harrell's C-index of a score column against right-censored survival times.") { data, time, eventColumn, eventValue, score, risk, json };
        command.SetAction((parse, cancellation) =>
        {
            var source = CsvSource.Open(parse.GetValue(data)!);
            var timeName = parse.GetValue(time)!;
            var eventName = parse.GetValue(eventColumn)!;
            var scoreName = parse.GetValue(score)!;
            source.Column(timeName, "--time");
            source.Column(eventName, "--event");
            source.Column(scoreName, "--score");
            var ml = CliRunner.Context();
            var view = source.Load(ml, [(timeName, DataKind.Double), (scoreName, DataKind.Double), (eventName, DataKind.String)]);
            var times = view.GetColumn<double>(timeName).ToArray();
            var bad = Array.FindIndex(times, t => t <= 0);
            if (bad >= 0)
            {
                throw new ArgumentException($"{source.Path}, line {source.Locate(bad, timeName).Line}: --time column '{timeName}' has the non-positive value {times[bad]}.");
            }
            var events = Events(source, view.GetColumn<ReadOnlyMemory<char>>(eventName).Select(e => e.ToString()).ToArray(), eventName, parse.GetValue(eventValue));
            var result = SurvivalMetrics.ConcordanceIndex(times, events, view.GetColumn<double>(scoreName).ToArray(), !parse.GetValue(risk));
            var report = new { N = times.Length, Events = events.Count(e => e), result.ConcordanceIndex, result.Concordant, result.Discordant, result.TiedPrediction, result.Comparable };
            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(report);
            }
            else
            {
                var grid = new Table().AddColumns("rows", "events", "C-index", "concordant", "discordant", "tied", "comparable");
                grid.AddRow($"{report.N}", $"{report.Events}", $"{report.ConcordanceIndex:F4}", $"{report.Concordant}", $"{report.Discordant}", $"{report.TiedPrediction}", $"{report.Comparable}");
                AnsiConsole.Write(grid);
            }
            return Task.FromResult(0);
        });
        return command;
    }

    private static bool[] Events(CsvSource source, string[] text, string column, string? eventValue)
    {
        if (eventValue is not null)
        {
            var events = text.Select(t => t == eventValue).ToArray();
            return events.Contains(true) ? events : throw new FormatException($"--event-value '{eventValue}' occurs in no row of --event column '{column}'.");
        }
        return text.Select((t, row) => t switch
        {
            "1" or "true" or "TRUE" or "True" => true,
            "0" or "false" or "FALSE" or "False" => false,
            _ => throw new FormatException($"{source.Path}, line {source.Locate(row, column).Line}: --event column '{column}' holds '{t}'; expected 0/1 or true/false, or name the event with --event-value."),
        }).ToArray();
    }
}
