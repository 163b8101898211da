namespace Microsoft.ML.PaperExtensions.Metrics;

/// <summary>Classification scores that ML.NET's multiclass evaluator does not report.</summary>
public static class ClassificationMetrics
{
    /// <summary>Share of rows whose prediction equals the truth.</summary>
    public static double Accuracy(ReadOnlySpan<int> truth, ReadOnlySpan<int> predicted)
    {
        CheckLengths(truth, predicted);
        var hits = 0;
        for (var i = 0; i < truth.Length; i++) if (truth[i] == predicted[i]) hits++;
        return (double)hits / truth.Length;
    }

    /// <summary>
    /// Macro-averaged F1 over the classes 0..<paramref name="classCount"/>-1: the mean of 2 TP / (2 TP + FP + FN) per class
    /// (a class with no true and no predicted rows scores 0, as scikit-learn's <c>f1_score(average='macro')</c> with zero_division=0).
    /// A prediction of -1 means no class (a row the model left unpredicted): a false negative of its true class.
    /// </summary>
    public static double MacroF1(ReadOnlySpan<int> truth, ReadOnlySpan<int> predicted, int classCount)
    {
        CheckLengths(truth, predicted);
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        var tp = new int[classCount];
        var fp = new int[classCount];
        var fn = new int[classCount];
        for (var i = 0; i < truth.Length; i++)
        {
            if ((uint)truth[i] >= classCount || predicted[i] < -1 || predicted[i] >= classCount)
            {
                throw new ArgumentException($"Row {i} has class {truth[i]} / prediction {predicted[i]} outside 0..{classCount - 1}.", nameof(truth));
            }
            if (truth[i] == predicted[i]) tp[truth[i]]++;
            else
            {
                if (predicted[i] >= 0) fp[predicted[i]]++;
                fn[truth[i]]++;
            }
        }
        double sum = 0;
        for (var k = 0; k < classCount; k++)
        {
            var denominator = 2 * tp[k] + fp[k] + fn[k];
            sum += denominator == 0 ? 0 : 2.0 * tp[k] / denominator;
        }
        return sum / classCount;
    }

    /// <summary>
    /// Area under the ROC curve of <paramref name="scores"/> for telling positive rows from negative ones: the probability that
    /// a random positive scores above a random negative, ties counting one half (Mann-Whitney), in O(n log n).
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ, or there are no positive or no negative rows.</exception>
    public static double AreaUnderRocCurve(ReadOnlySpan<double> scores, ReadOnlySpan<bool> positive)
    {
        if (scores.Length != positive.Length) throw new ArgumentException($"{scores.Length} scores but {positive.Length} labels.", nameof(positive));
        var order = Enumerable.Range(0, scores.Length).ToArray();
        var values = scores.ToArray();
        Array.Sort(values, order);
        double rankSum = 0;
        long positives = 0;
        for (var start = 0; start < values.Length;)
        {
            var end = start;
            while (end < values.Length && values[end] == values[start]) end++;
            var midRank = (start + 1 + end) / 2.0;
            for (var i = start; i < end; i++) if (positive[order[i]]) { rankSum += midRank; positives++; }
            start = end;
        }
        var negatives = scores.Length - positives;
        if (positives == 0 || negatives == 0) throw new ArgumentException("The AUC needs positive and negative rows.", nameof(positive));
        return (rankSum - positives * (positives + 1) / 2.0) / (positives * negatives);
    }

    private static void CheckLengths(ReadOnlySpan<int> truth, ReadOnlySpan<int> predicted)
    {
        if (truth.Length != predicted.Length) throw new ArgumentException($"{truth.Length} true classes but {predicted.Length} predictions.", nameof(predicted));
        if (truth.Length == 0) throw new ArgumentException("No rows.", nameof(truth));
    }
}
