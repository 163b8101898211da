using Microsoft.ML;
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
            var table = CsvTable.Load(parse.GetValue(data)!, new ConsoleProgress(), cancellation);
            var timeName = parse.GetValue(time)!;
            var times = table.Numbers(timeName, "--time");
            var bad = Array.FindIndex(times, t => t <= 0);
            if (bad >= 0)
            {
                throw new ArgumentException($"--time column '{timeName}' has the non-positive value {times[bad]} in data row {bad + 1}.");
            }
            var events = Events(table, parse.GetValue(eventColumn)!, parse.GetValue(eventValue));
            var result = SurvivalMetrics.ConcordanceIndex(times, events, table.Numbers(parse.GetValue(score)!, "--score"), !parse.GetValue(risk));
            var report = new { N = table.RowCount, Events = events.Count(e => e), result.ConcordanceIndex, result.Concordant, result.Discordant, result.TiedPrediction, result.Comparable };
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

    private static bool[] Events(CsvTable table, string column, string? eventValue)
    {
        var text = table.Text(column, "--event");
        if (eventValue is not null)
        {
            var events = text.Select(t => t == eventValue).ToArray();
            return events.Contains(true) ? events : throw new FormatException($"--event-value '{eventValue}' occurs in no row of --event column '{column}'.");
        }
        return text.Select((t, row) => t switch
        {
            "1" or "true" or "TRUE" or "True" => true,
            "0" or "false" or "FALSE" or "False" => false,
            _ => throw new FormatException($"--event column '{column}' holds '{t}' in data row {row + 1}; expected 0/1 or true/false, or name the event with --event-value."),
        }).ToArray();
    }
}
