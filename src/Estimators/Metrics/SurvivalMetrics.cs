namespace Microsoft.ML.PaperExtensions.Metrics;

/// <summary>Harrell's concordance index and its pair counts.</summary>
/// <param name="ConcordanceIndex">(concordant + tied / 2) / comparable; 0.5 is chance, 1 is perfect ranking.</param>
/// <param name="Concordant">Comparable pairs ranked the right way round.</param>
/// <param name="Discordant">Comparable pairs ranked the wrong way round.</param>
/// <param name="TiedPrediction">Comparable pairs with equal predictions (each counts one half).</param>
/// <param name="Comparable">Pairs whose order of survival is known from the data.</param>
public sealed record ConcordanceResult(double ConcordanceIndex, long Concordant, long Discordant, long TiedPrediction, long Comparable);

/// <summary>Metrics for right-censored survival data that ML.NET lacks.</summary>
public static class SurvivalMetrics
{
    /// <summary>
    /// Harrell's C-index in O(n log n). A pair (i, j) is comparable when the shorter time is an event, or when the times
    /// are equal and only one of them is an event (the censored one is known to have lived at least as long); pairs with
    /// equal times that are both events, or any pair whose shorter time is censored, are not comparable. Predictions that tie
    /// count one half. This matches R's <c>survival::concordance</c> with its default <c>timewt = "n"</c>.
    /// </summary>
    /// <param name="time">Observed times (event or censoring).</param>
    /// <param name="isEvent">True where the time is an event, false where it is censored.</param>
    /// <param name="prediction">The prediction per row; by default a higher value means longer predicted survival (a time or a survival probability).</param>
    /// <param name="higherMeansLongerSurvival">False when <paramref name="prediction"/> is a risk score (higher means earlier events).</param>
    /// <exception cref="ArgumentException">Lengths differ, a value is not finite, or no pair is comparable.</exception>
    public static ConcordanceResult ConcordanceIndex(ReadOnlySpan<double> time, ReadOnlySpan<bool> isEvent, ReadOnlySpan<double> prediction, bool higherMeansLongerSurvival = true)
    {
        var n = time.Length;
        if (isEvent.Length != n || prediction.Length != n)
        {
            throw new ArgumentException($"time ({n}), isEvent ({isEvent.Length}) and prediction ({prediction.Length}) must have the same length.");
        }
        MetricChecks.RequireFinite(time, nameof(time));
        MetricChecks.RequireFinite(prediction, nameof(prediction));

        // Ranks of the predictions (ties share a rank), oriented so that a larger rank means longer predicted survival.
        var sign = higherMeansLongerSurvival ? 1.0 : -1.0;
        var byPrediction = Enumerable.Range(0, n).ToArray();
        var keys = new double[n];
        for (var i = 0; i < n; i++) keys[i] = sign * prediction[i];
        Array.Sort((double[])keys.Clone(), byPrediction);
        var rank = new int[n];
        var distinct = 0;
        for (var k = 0; k < n; k++)
        {
            if (k > 0 && keys[byPrediction[k]] != keys[byPrediction[k - 1]]) distinct++;
            rank[byPrediction[k]] = distinct;
        }
        var tree = new FenwickTree(distinct + 1);

        // Walk times from the longest down. The tree holds every row with a strictly longer time, plus the censored rows
        // of the current time (added before its events are scored), so each event meets exactly its comparable partners.
        var byTime = Enumerable.Range(0, n).ToArray();
        Array.Sort(time.ToArray(), byTime);
        long concordant = 0, discordant = 0, tied = 0;
        for (var end = n; end > 0;)
        {
            var start = end - 1;
            while (start > 0 && time[byTime[start - 1]] == time[byTime[end - 1]]) start--;
            for (var k = start; k < end; k++)
            {
                if (!isEvent[byTime[k]]) tree.Add(rank[byTime[k]]);
            }
            for (var k = start; k < end; k++)
            {
                var i = byTime[k];
                if (!isEvent[i]) continue;
                var below = tree.CountBelow(rank[i]);
                var equal = tree.CountAt(rank[i]);
                discordant += below;
                tied += equal;
                concordant += tree.Total - below - equal;
            }
            for (var k = start; k < end; k++)
            {
                if (isEvent[byTime[k]]) tree.Add(rank[byTime[k]]);
            }
            end = start;
        }
        var comparable = concordant + discordant + tied;
        if (comparable == 0)
        {
            throw new ArgumentException("No pair is comparable: the data need at least one event followed by a longer observed time.", nameof(isEvent));
        }
        return new ConcordanceResult((concordant + 0.5 * tied) / comparable, concordant, discordant, tied, comparable);
    }

    /// <summary>Counts of inserted ranks, with prefix sums in O(log n).</summary>
    private sealed class FenwickTree(int size)
    {
        private readonly long[] _sums = new long[size + 1];
        private readonly long[] _counts = new long[size];

        public long Total { get; private set; }

        public void Add(int rank)
        {
            _counts[rank]++;
            Total++;
            for (var i = rank + 1; i < _sums.Length; i += i & -i) _sums[i]++;
        }

        public long CountAt(int rank) => _counts[rank];

        public long CountBelow(int rank)
        {
            long sum = 0;
            for (var i = rank; i > 0; i -= i & -i) sum += _sums[i];
            return sum;
        }
    }
}
