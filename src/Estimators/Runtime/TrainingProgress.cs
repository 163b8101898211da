namespace Microsoft.ML.PaperExtensions.Runtime;

/// <summary>One progress report of a long-running fit.</summary>
/// <param name="Stage">What is running, for example "fit" or "cross-validation fold 2".</param>
/// <param name="Step">Steps done in this stage.</param>
/// <param name="TotalSteps">Steps planned in this stage (the maximum, when the fit may stop early).</param>
/// <param name="Objective">The current value of the objective, when there is one.</param>
public readonly record struct TrainingProgress(string Stage, int Step, int TotalSteps, double? Objective = null);

/// <summary>
/// Reports progress to an <see cref="IProgress{T}"/> and to <see cref="MLContext.Log"/>, and checks for cancellation
/// at every report. Each fit's <see cref="TrainingContext"/> holds one.
/// </summary>
internal sealed class TrainingMonitor(MLContext mlContext, string componentName, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
{
    /// <summary>The token that cancels the fit.</summary>
    public CancellationToken CancellationToken => cancellationToken;

    /// <summary>
    /// Throws <see cref="OperationCanceledException"/> when cancellation was asked for, else reports; a report is also a
    /// <see cref="TorchFinalizerGate.SafePoint"/> (it is made between steps).
    /// </summary>
    public void Report(TrainingProgress report)
    {
        cancellationToken.ThrowIfCancellationRequested();
        TorchFinalizerGate.SafePoint();
        progress?.Report(report);
        var objective = report.Objective is { } o ? $", objective {o:G6}" : "";
        TrainingContext.Log(mlContext, componentName, $"{report.Stage}: step {report.Step} of {report.TotalSteps}{objective}");
    }
}
