namespace Microsoft.ML.PaperExtensions.Metrics;

/// <summary>What <see cref="OrdinalCatalog.Evaluate"/> measures on ordered classes 0 &lt; ... &lt; K-1.</summary>
/// <param name="RowCount">Rows scored.</param>
/// <param name="ClassCount">Number of classes K.</param>
/// <param name="LogLoss">Mean negative log-likelihood of the true class.</param>
/// <param name="BrierScore">Multi-class Brier score (see <see cref="ProbabilityMetrics.BrierScore(ReadOnlySpan{double}, ReadOnlySpan{int}, int)"/>).</param>
/// <param name="RankedProbabilityScore">See <see cref="OrdinalMetrics.RankedProbabilityScore"/>.</param>
/// <param name="Accuracy">Share of rows whose most probable class is the true class.</param>
/// <param name="MeanAbsoluteError">Mean |most probable class - true class|.</param>
/// <param name="QuadraticWeightedKappa">Agreement of the most probable class with the true class; NaN when undefined.</param>
/// <param name="RareClass">The class treated as rare (the last by default).</param>
/// <param name="RareClassBrierScore">Brier score of the rare class alone.</param>
/// <param name="RareClassCalibrationError">See <see cref="ProbabilityMetrics.CalibrationError"/>, for the rare class.</param>
/// <param name="CrossingRepairs">Rows whose cumulative probabilities crossed and were repaired (from a Boolean
/// <c>CrossingRepaired</c> column), or null when the data have no such column.</param>
public sealed record OrdinalEvaluation(
    int RowCount,
    int ClassCount,
    double LogLoss,
    double BrierScore,
    double RankedProbabilityScore,
    double Accuracy,
    double MeanAbsoluteError,
    double QuadraticWeightedKappa,
    int RareClass,
    double RareClassBrierScore,
    double RareClassCalibrationError,
    int? CrossingRepairs = null)
{
    /// <summary>Rows left out because their probabilities are NaN (rows the model could not score); <see cref="RowCount"/> does not include them.</summary>
    public int UnscoredRows { get; init; }

    internal static OrdinalEvaluation Compute(double[] probabilities, int[] labels, int classCount, int rareClass, int? crossingRepairs)
    {
        var n = labels.Length;
        var predicted = new int[n];
        var rareProbability = new double[n];
        var isRare = new bool[n];
        var correct = 0;
        for (var i = 0; i < n; i++)
        {
            var row = probabilities.AsSpan(i * classCount, classCount);
            var best = 0;
            for (var k = 1; k < classCount; k++) if (row[k] > row[best]) best = k;
            predicted[i] = best;
            correct += best == labels[i] ? 1 : 0;
            rareProbability[i] = row[rareClass];
            isRare[i] = labels[i] == rareClass;
        }
        double kappa;
        try
        {
            kappa = OrdinalMetrics.QuadraticWeightedKappa(predicted, labels, classCount);
        }
        catch (ArgumentException)
        {
            kappa = double.NaN;
        }
        return new OrdinalEvaluation(
            n,
            classCount,
            ProbabilityMetrics.LogLoss(probabilities, labels, classCount),
            ProbabilityMetrics.BrierScore(probabilities, labels, classCount),
            OrdinalMetrics.RankedProbabilityScore(probabilities, labels, classCount),
            (double)correct / n,
            OrdinalMetrics.MeanAbsoluteError(predicted, labels),
            kappa,
            rareClass,
            ProbabilityMetrics.BrierScore(rareProbability, isRare),
            ProbabilityMetrics.CalibrationError(rareProbability, isRare),
            crossingRepairs);
    }
}
