namespace Microsoft.ML.PaperExtensions.FineTuning;

/// <summary>What a text fine-tune did.</summary>
/// <param name="Method">The method that trained.</param>
/// <param name="Rows">Training texts.</param>
/// <param name="ClassNames">The classes, in the order of <c>Score</c>; empty for regression.</param>
/// <param name="EpochLosses">Mean training loss of each epoch (cross-entropy, or mean squared error of the standardised label).</param>
/// <param name="Steps">Optimizer steps.</param>
/// <param name="Seconds">Training time.</param>
/// <param name="TrainableParameters">Parameters that trained (adapters and head, or everything).</param>
/// <param name="TotalParameters">Parameters of encoder, adapters and head.</param>
/// <param name="ValidationLosses">Validation loss after each epoch; empty without a validation set.</param>
/// <param name="BestEpoch">The epoch (1-based) whose weights the model holds: the lowest validation loss, else the last.</param>
public sealed record FineTuningReport(FineTuningMethod Method, int Rows, IReadOnlyList<string> ClassNames, IReadOnlyList<double> EpochLosses, int Steps, double Seconds,
    long TrainableParameters, long TotalParameters, IReadOnlyList<double> ValidationLosses, int BestEpoch)
{
    /// <summary>Training examples per second (texts x epochs / seconds).</summary>
    public double SamplesPerSecond => Rows * (double)EpochLosses.Count / Seconds;
}
