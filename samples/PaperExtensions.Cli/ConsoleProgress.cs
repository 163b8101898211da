using Microsoft.ML;
using Microsoft.ML.PaperExtensions.Runtime;

namespace PaperExtensions.Cli;

/// <summary>
/// Shows progress on standard error: a bar redrawn in place on a terminal, or a line per stage and per tenth of the
/// work when standard error is redirected. Standard output stays clean for --json.
/// </summary>
internal sealed class ConsoleProgress : IProgress<TrainingProgress>
{
    private readonly Lock _gate = new();
    private string? _stage;
    private int _lastTenth = -1;

    public void Report(TrainingProgress value)
    {
        lock (_gate)
        {
            var fraction = value.TotalSteps <= 0 ? 1 : Math.Clamp((double)value.Step / value.TotalSteps, 0, 1);
            var objective = value.Objective is { } o ? $"  objective {o:G6}" : "";
            if (!Console.IsErrorRedirected)
            {
                var filled = (int)Math.Round(fraction * 30);
                Console.Error.Write($"\r{value.Stage,-28} [{new string('#', filled)}{new string('.', 30 - filled)}] {value.Step}/{value.TotalSteps}{objective}   ");
                if (value.Step >= value.TotalSteps) Console.Error.WriteLine();
                return;
            }
            var tenth = (int)(fraction * 10);
            if (value.Stage != _stage || tenth != _lastTenth)
            {
                Console.Error.WriteLine($"{value.Stage}: {value.Step}/{value.TotalSteps}{objective}");
                _stage = value.Stage;
                _lastTenth = tenth;
            }
        }
    }
}
