namespace Microsoft.ML.PaperExtensions.Metrics;

/// <summary>
/// The Kaplan-Meier estimate of a survival function from right-censored times (optionally weighted), a right-continuous
/// step function that drops at each event time. For the censoring distribution G used by IPCW metrics, fit it with the
/// event indicators negated.
/// </summary>
public sealed class KaplanMeier
{
    private readonly double[] _times;
    private readonly double[] _survival;

    private KaplanMeier(double[] times, double[] survival, double[] atRisk, double[] events)
    {
        _times = times;
        _survival = survival;
        AtRisk = atRisk;
        Events = events;
    }

    /// <summary>The distinct event times, ascending.</summary>
    public IReadOnlyList<double> Times => _times;

    /// <summary>S right after each event time.</summary>
    public IReadOnlyList<double> Survival => _survival;

    /// <summary>The (weighted) number at risk just before each event time.</summary>
    public IReadOnlyList<double> AtRisk { get; }

    /// <summary>The (weighted) number of events at each event time.</summary>
    public IReadOnlyList<double> Events { get; }

    /// <summary>Fits the estimate.</summary>
    /// <exception cref="ArgumentException">Lengths differ, or a time or weight is negative or not finite.</exception>
    public static KaplanMeier Fit(ReadOnlySpan<double> time, ReadOnlySpan<bool> isEvent, ReadOnlySpan<double> weights = default)
    {
        var n = time.Length;
        MetricChecks.RequireSameLength(n, isEvent.Length, nameof(isEvent));
        MetricChecks.RequireFinite(time, nameof(time));
        var w = weights.IsEmpty ? Enumerable.Repeat(1.0, n).ToArray() : weights.ToArray();
        MetricChecks.RequireSameLength(n, w.Length, nameof(weights));
        if (w.Any(v => !(v >= 0 && double.IsFinite(v)))) throw new ArgumentException("Weights must be finite and non-negative.", nameof(weights));
        var order = Enumerable.Range(0, n).ToArray();
        Array.Sort(time.ToArray(), order);
        var remaining = w.Sum();
        var s = 1.0;
        List<double> times = [], survival = [], atRisk = [], events = [];
        for (var k = 0; k < n;)
        {
            var t = time[order[k]];
            double died = 0, left = 0;
            for (; k < n && time[order[k]] == t; k++)
            {
                left += w[order[k]];
                if (isEvent[order[k]]) died += w[order[k]];
            }
            if (died > 0)
            {
                s *= 1 - died / remaining;
                times.Add(t);
                survival.Add(s);
                atRisk.Add(remaining);
                events.Add(died);
            }
            remaining -= left;
        }
        return new KaplanMeier([.. times], [.. survival], [.. atRisk], [.. events]);
    }

    /// <summary>S(t): the product over event times &lt;= t.</summary>
    public double Evaluate(double t)
    {
        var index = Array.BinarySearch(_times, t);
        index = index >= 0 ? index : ~index - 1;
        return index < 0 ? 1 : _survival[index];
    }

    /// <summary>S(t-): the product over event times &lt; t.</summary>
    public double EvaluateBefore(double t)
    {
        var index = Array.BinarySearch(_times, t);
        index = index >= 0 ? index - 1 : ~index - 1;
        return index < 0 ? 1 : _survival[index];
    }
}
