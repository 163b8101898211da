using Microsoft.ML.PaperExtensions.Data;
using Microsoft.ML.PaperExtensions.Survival;

namespace Microsoft.ML.PaperExtensions.Metrics;

/// <summary>
/// Evaluates survival predictions on scored data, by column names, as ML.NET's evaluators do: any pipeline that ends with a
/// flexible survival model (which writes each row's APGW parameters to <c>ApgwParameters</c>) can be evaluated, on rows it
/// was not fitted on. <c>mlContext.Survival().Evaluate</c> calls it.
/// </summary>
public static class SurvivalEvaluator
{
    /// <summary>The column in which the flexible survival model writes each row's distribution: log phi, log lambda, log gamma, kappa.</summary>
    public const string ParametersColumnName = "ApgwParameters";

    /// <summary>
    /// Harrell's C-index (of the predicted survival probability at the median observed time, which ranks like any time when
    /// gamma has no covariates and stays finite under a cure fraction), the integrated IPCW Brier score (censoring distribution by
    /// Kaplan-Meier) and the log-likelihood of the rows (left truncation and weights included).
    /// </summary>
    /// <param name="scored">Scored rows with the observed outcome.</param>
    /// <param name="timeColumnName">Observed time, &gt; 0.</param>
    /// <param name="eventColumnName">Event indicator: Boolean, 0/1, or numeric with <paramref name="eventValue"/>.</param>
    /// <param name="eventValue">The event column's value that means an event; null for 0/1 or Boolean.</param>
    /// <param name="parametersColumnName">The per-row APGW parameters (a Vector&lt;Double, 4&gt;).</param>
    /// <param name="entryTimeColumnName">Optional entry times (left truncation).</param>
    /// <param name="exampleWeightColumnName">Optional weights of the log-likelihood.</param>
    /// <param name="brierTimes">The Brier grid; by default 50 times from the first event time to the 90th percentile of the observed times.</param>
    public static SurvivalEvaluation Evaluate(IDataView scored, string timeColumnName, string eventColumnName, double? eventValue = null,
        string parametersColumnName = ParametersColumnName, string? entryTimeColumnName = null, string? exampleWeightColumnName = null, IReadOnlyList<double>? brierTimes = null)
    {
        ArgumentNullException.ThrowIfNull(scored);
        var outcome = new SurvivalOutcome.Columns(timeColumnName, eventColumnName, eventValue, entryTimeColumnName, exampleWeightColumnName,
            nameof(timeColumnName), nameof(eventColumnName), nameof(entryTimeColumnName), nameof(exampleWeightColumnName));
        outcome.Declare(new InputColumns())
            .Add("APGW parameters", nameof(parametersColumnName), parametersColumnName, ColumnTypes.Features, "a known-size vector of 4 Double values (log phi, log lambda, log gamma, kappa)")
            .Check(scored.Schema);
        var rows = SurvivalOutcome.Read(scored, outcome, CancellationToken.None);
        var parameters = DataViewReader.Read(scored, new DataViewReader.Request([parametersColumnName], FeatureRole: "APGW parameters", AllowNonFiniteFeatures: true, FeatureOption: nameof(parametersColumnName)));
        if (parameters.FeatureCount != 4)
        {
            throw new ArgumentException($"APGW parameters column '{parametersColumnName}' must hold 4 values (log phi, log lambda, log gamma, kappa), but holds {parameters.FeatureCount}.", nameof(parametersColumnName));
        }
        var n = rows.RowCount;
        var distributions = new ApgwDistribution[n];
        for (var i = 0; i < n; i++)
        {
            var p = parameters.Features.AsSpan(4 * i, 4);
            distributions[i] = new ApgwDistribution(Math.Exp(p[0]), Math.Exp(p[1]), Math.Exp(p[2]), p[3]);
        }
        var isEvent = rows.Event.Select(e => e == 1).ToArray();

        var sorted = rows.Time.Order().ToArray();
        var reference = sorted[n / 2];
        var concordance = SurvivalMetrics.ConcordanceIndex(rows.Time, isEvent, distributions.Select(d => d.Survival(reference)).ToArray()).ConcordanceIndex;

        var times = brierTimes ?? DefaultGrid(rows.Time, isEvent, sorted);
        var censoring = KaplanMeier.Fit(rows.Time, isEvent.Select(e => !e).ToArray());
        var scores = times.Select(t => SurvivalEvaluation.BrierScore(t, rows.Time, isEvent, distributions.Select(d => d.Survival(t)).ToArray(), censoring)).ToList();

        var logLikelihood = 0.0;
        for (var i = 0; i < n; i++)
        {
            var d = distributions[i];
            var row = isEvent[i] ? d.LogDensity(rows.Time[i]) : -d.CumulativeHazard(rows.Time[i]);
            logLikelihood += rows.Weight[i] * (row + d.CumulativeHazard(rows.Entry[i]));
        }
        return new SurvivalEvaluation(n, isEvent.Count(e => e), concordance, SurvivalEvaluation.Integrate(times, scores), times, logLikelihood);
    }

    private static List<double> DefaultGrid(double[] time, bool[] isEvent, double[] sorted)
    {
        var first = time.Where((_, i) => isEvent[i]).Min();
        var last = sorted[(int)Math.Floor(0.9 * (sorted.Length - 1))];
        if (last <= first) return [first];
        return Enumerable.Range(0, 50).Select(k => first + (last - first) * k / 49).ToList();
    }
}
