namespace Microsoft.ML.PaperExtensions.Metrics;

/// <summary>What the survival evaluator measures on held-out rows.</summary>
/// <param name="RowCount">Rows evaluated.</param>
/// <param name="Events">Events among them.</param>
/// <param name="ConcordanceIndex">Harrell's C of the predicted median survival time.</param>
/// <param name="IntegratedBrierScore">The IPCW Brier score averaged over <paramref name="BrierTimes"/> (trapezoid rule).</param>
/// <param name="BrierTimes">The time grid of the integrated Brier score.</param>
/// <param name="LogLikelihood">The model's log-likelihood of the rows (sum).</param>
public sealed record SurvivalEvaluation(int RowCount, int Events, double ConcordanceIndex, double IntegratedBrierScore, IReadOnlyList<double> BrierTimes, double LogLikelihood)
{
    /// <summary>
    /// The Brier score at time t with inverse probability of censoring weights (Graf et al. 1999):
    /// <c>mean_i [S_i(t)^2 1{T_i &lt;= t, event} / G(T_i-) + (1 - S_i(t))^2 1{T_i &gt; t} / G(t)]</c>, G the Kaplan-Meier
    /// estimate of the censoring distribution. Rows censored before t contribute 0.
    /// </summary>
    public static double BrierScore(double t, ReadOnlySpan<double> time, ReadOnlySpan<bool> isEvent, ReadOnlySpan<double> survivalAtT, KaplanMeier censoring)
    {
        var n = time.Length;
        var gt = censoring.Evaluate(t);
        var sum = 0.0;
        for (var i = 0; i < n; i++)
        {
            if (time[i] <= t && isEvent[i])
            {
                var g = censoring.EvaluateBefore(time[i]);
                if (g > 0) sum += survivalAtT[i] * survivalAtT[i] / g;
            }
            else if (time[i] > t && gt > 0)
            {
                sum += (1 - survivalAtT[i]) * (1 - survivalAtT[i]) / gt;
            }
        }
        return sum / n;
    }

    /// <summary>The trapezoid average of <paramref name="scores"/> over <paramref name="times"/>.</summary>
    public static double Integrate(IReadOnlyList<double> times, IReadOnlyList<double> scores)
    {
        if (times.Count == 1) return scores[0];
        var area = 0.0;
        for (var k = 1; k < times.Count; k++) area += (times[k] - times[k - 1]) * (scores[k] + scores[k - 1]) / 2;
        return area / (times[^1] - times[0]);
    }
}
