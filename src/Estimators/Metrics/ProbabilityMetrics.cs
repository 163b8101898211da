namespace Microsoft.ML.PaperExtensions.Metrics;

/// <summary>Scores of predicted class probabilities that ML.NET's evaluators lack.</summary>
public static class ProbabilityMetrics
{
    /// <summary>
    /// Multi-class Brier score: <c>mean_i sum_k (p_ik - 1{y_i = k})^2</c> (0 is perfect, 2 is the worst).
    /// </summary>
    /// <param name="probabilities">Row-major n x <paramref name="classCount"/> class probabilities.</param>
    /// <param name="labels">0-based classes, one per row.</param>
    /// <param name="classCount">Number of classes K.</param>
    public static double BrierScore(ReadOnlySpan<double> probabilities, ReadOnlySpan<int> labels, int classCount)
    {
        CheckMatrix(probabilities, labels, classCount);
        var sum = 0.0;
        for (var i = 0; i < labels.Length; i++)
        {
            var row = probabilities.Slice(i * classCount, classCount);
            for (var k = 0; k < classCount; k++)
            {
                var d = row[k] - (labels[i] == k ? 1 : 0);
                sum += d * d;
            }
        }
        return sum / labels.Length;
    }

    /// <summary>Brier score of one event: <c>mean_i (p_i - 1{event_i})^2</c>.</summary>
    public static double BrierScore(ReadOnlySpan<double> probability, ReadOnlySpan<bool> outcome)
    {
        MetricChecks.RequireSameLength(probability.Length, outcome.Length, nameof(outcome));
        MetricChecks.RequireProbabilities(probability, nameof(probability));
        RequireRows(outcome.Length);
        var sum = 0.0;
        for (var i = 0; i < outcome.Length; i++)
        {
            var d = probability[i] - (outcome[i] ? 1 : 0);
            sum += d * d;
        }
        return sum / outcome.Length;
    }

    /// <summary>
    /// Equal-frequency binned calibration error of one class, as in the PRESTO paper's real-data metric: rows are sorted by
    /// the predicted probability, split into <paramref name="binCount"/> bins of (nearly) equal size, and the result is the
    /// mean over rows of <c>(p_i - observed frequency of row i's bin)^2</c>.
    /// </summary>
    /// <param name="probability">Predicted probability of the class, per row.</param>
    /// <param name="outcome">Whether the row is of the class.</param>
    /// <param name="binCount">Number of bins; by default <c>max(round(n / 100), 10)</c>, capped at n.</param>
    public static double CalibrationError(ReadOnlySpan<double> probability, ReadOnlySpan<bool> outcome, int? binCount = null)
    {
        MetricChecks.RequireSameLength(probability.Length, outcome.Length, nameof(outcome));
        MetricChecks.RequireProbabilities(probability, nameof(probability));
        var n = outcome.Length;
        RequireRows(n);
        var bins = Math.Min(n, binCount ?? Math.Max((int)Math.Round(n / 100.0, MidpointRounding.AwayFromZero), 10));
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1, nameof(binCount));

        var order = Enumerable.Range(0, n).ToArray();
        var sorted = probability.ToArray();
        Array.Sort(sorted, order);
        var sum = 0.0;
        for (var b = 0; b < bins; b++)
        {
            int start = (int)((long)b * n / bins), end = (int)((long)(b + 1) * n / bins);
            var events = 0;
            for (var k = start; k < end; k++) events += outcome[order[k]] ? 1 : 0;
            var observed = (double)events / (end - start);
            for (var k = start; k < end; k++)
            {
                var d = sorted[k] - observed;
                sum += d * d;
            }
        }
        return sum / n;
    }

    /// <summary>Mean negative log-likelihood of the true classes, with probabilities floored at 1e-15 as ML.NET's log-loss does.</summary>
    public static double LogLoss(ReadOnlySpan<double> probabilities, ReadOnlySpan<int> labels, int classCount)
    {
        CheckMatrix(probabilities, labels, classCount);
        var sum = 0.0;
        for (var i = 0; i < labels.Length; i++)
        {
            sum -= Math.Log(Math.Max(probabilities[i * classCount + labels[i]], 1e-15));
        }
        return sum / labels.Length;
    }

    internal static void CheckMatrix(ReadOnlySpan<double> probabilities, ReadOnlySpan<int> labels, int classCount)
    {
        MetricChecks.RequireClasses(labels, classCount, nameof(labels));
        MetricChecks.RequireSameLength(labels.Length * classCount, probabilities.Length, nameof(probabilities));
        MetricChecks.RequireProbabilities(probabilities, nameof(probabilities));
        RequireRows(labels.Length);
    }

    internal static void RequireRows(int n)
    {
        if (n == 0)
        {
            throw new ArgumentException("There are no rows to score.");
        }
    }
}
