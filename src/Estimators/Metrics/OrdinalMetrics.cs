namespace Microsoft.ML.PaperExtensions.Metrics;

/// <summary>Metrics for ordered classes 0 &lt; 1 &lt; ... &lt; K-1 that ML.NET lacks.</summary>
public static class OrdinalMetrics
{
    /// <summary>
    /// Ranked probability score: <c>mean_i 1/(K-1) sum_{k&lt;K-1} (F_ik - O_ik)^2</c>, where F is the predicted and O the
    /// observed cumulative distribution over the ordered classes (0 is perfect, 1 the worst).
    /// </summary>
    public static double RankedProbabilityScore(ReadOnlySpan<double> probabilities, ReadOnlySpan<int> labels, int classCount)
    {
        ProbabilityMetrics.CheckMatrix(probabilities, labels, classCount);
        var sum = 0.0;
        for (var i = 0; i < labels.Length; i++)
        {
            var cumulative = 0.0;
            for (var k = 0; k < classCount - 1; k++)
            {
                cumulative += probabilities[i * classCount + k];
                var d = cumulative - (labels[i] <= k ? 1 : 0);
                sum += d * d;
            }
        }
        return sum / (labels.Length * (double)(classCount - 1));
    }

    /// <summary>Mean absolute difference between predicted and true class indices.</summary>
    public static double MeanAbsoluteError(ReadOnlySpan<int> predicted, ReadOnlySpan<int> labels)
    {
        MetricChecks.RequireSameLength(labels.Length, predicted.Length, nameof(predicted));
        ProbabilityMetrics.RequireRows(labels.Length);
        long sum = 0;
        for (var i = 0; i < labels.Length; i++) sum += Math.Abs(predicted[i] - labels[i]);
        return (double)sum / labels.Length;
    }

    /// <summary>
    /// Cohen's kappa with quadratic weights <c>w_ij = (i - j)^2 / (K - 1)^2</c>: <c>1 - sum w O / sum w E</c>, where O is the
    /// confusion matrix and E the outer product of its margins divided by n. 1 is perfect agreement, 0 is chance.
    /// </summary>
    /// <exception cref="ArgumentException">Both raters put every row in one class, so kappa is undefined.</exception>
    public static double QuadraticWeightedKappa(ReadOnlySpan<int> predicted, ReadOnlySpan<int> labels, int classCount)
    {
        MetricChecks.RequireSameLength(labels.Length, predicted.Length, nameof(predicted));
        MetricChecks.RequireClasses(labels, classCount, nameof(labels));
        MetricChecks.RequireClasses(predicted, classCount, nameof(predicted));
        ProbabilityMetrics.RequireRows(labels.Length);
        var observed = new double[classCount, classCount];
        var rowMargin = new double[classCount];
        var columnMargin = new double[classCount];
        for (var i = 0; i < labels.Length; i++)
        {
            observed[labels[i], predicted[i]]++;
            rowMargin[labels[i]]++;
            columnMargin[predicted[i]]++;
        }
        double weightedObserved = 0, weightedExpected = 0;
        for (var a = 0; a < classCount; a++)
        {
            for (var b = 0; b < classCount; b++)
            {
                var w = (double)(a - b) * (a - b);
                weightedObserved += w * observed[a, b];
                weightedExpected += w * rowMargin[a] * columnMargin[b] / labels.Length;
            }
        }
        if (weightedExpected == 0)
        {
            throw new ArgumentException("Quadratic weighted kappa is undefined: predictions and labels all fall in one class.");
        }
        return 1 - weightedObserved / weightedExpected;
    }
}
