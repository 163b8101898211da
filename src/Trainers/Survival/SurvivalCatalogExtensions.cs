using Microsoft.ML.PaperExtensions.Metrics;
using Microsoft.ML.PaperExtensions.Survival;

namespace Microsoft.ML.PaperExtensions;

/// <summary>
/// The survival trainer and evaluator: <c>mlContext.Survival().Trainers.FlexibleParametric(...)</c>,
/// <c>mlContext.Survival().Evaluate(model, data)</c> and <c>mlContext.Survival().CrossValidate(...)</c>.
/// </summary>
public static class SurvivalCatalogExtensions
{
    /// <summary>APGW flexible parametric survival regression with free kappa and the given covariates on the PH scale.</summary>
    /// <param name="catalog">The survival trainers catalog.</param>
    /// <param name="timeColumnName">Observed time, &gt; 0.</param>
    /// <param name="eventColumnName">Event indicator: Boolean or 0/1.</param>
    /// <param name="phFeatureColumnNames">Covariates on the PH scale lambda.</param>
    public static FlexibleSurvivalTrainer FlexibleParametric(this TrainerCatalog<SurvivalCatalog> catalog, string timeColumnName = "Time",
        string eventColumnName = "Event", params string[] phFeatureColumnNames) =>
        FlexibleParametric(catalog, new FlexibleSurvivalTrainer.Options
        {
            TimeColumnName = timeColumnName,
            EventColumnName = eventColumnName,
            PhFeatureColumnNames = phFeatureColumnNames,
        });

    /// <summary>APGW flexible parametric survival regression with every option.</summary>
    public static FlexibleSurvivalTrainer FlexibleParametric(this TrainerCatalog<SurvivalCatalog> catalog, FlexibleSurvivalTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new FlexibleSurvivalTrainer(catalog.Context, options);
    }

    /// <summary>
    /// Evaluates a fitted model on rows with the columns it was trained on: Harrell's C-index (of the predicted survival
    /// probability at the median observed time, which ranks like any time when gamma has no covariates), the integrated
    /// IPCW Brier score (censoring distribution by Kaplan-Meier) and the log-likelihood of the rows.
    /// </summary>
    /// <param name="catalog">The survival catalog.</param>
    /// <param name="model">The fitted model.</param>
    /// <param name="data">Rows with the time, event (and entry) columns and the covariates.</param>
    /// <param name="brierTimes">The Brier grid; by default 50 times from the first event time to the 90th percentile of the observed times.</param>
    public static SurvivalEvaluation Evaluate(this SurvivalCatalog catalog, FlexibleSurvivalTransformer model, IDataView data, IReadOnlyList<double>? brierTimes = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        var rows = SurvivalTrainingData.Read(data, model.TrainingOptions, CancellationToken.None);
        var n = rows.RowCount;
        var isEvent = rows.Event.Select(e => e == 1).ToArray();
        var distributions = Enumerable.Range(0, n).Select(i => model.Model.Distribution(rows.Aft.Row(i), rows.Ph.Row(i), rows.Shape.Row(i))).ToArray();

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

    /// <summary>K-fold cross-validation of the flexible survival trainer, each fold evaluated with <see cref="Evaluate"/>.</summary>
    public static IReadOnlyList<CrossValidationFold<SurvivalEvaluation>> CrossValidate(this SurvivalCatalog catalog, IDataView data, FlexibleSurvivalTrainer estimator,
        int numberOfFolds = 5, string? samplingKeyColumnName = null, int? seed = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return CrossValidation.Run(catalog.Context, data, estimator, numberOfFolds, samplingKeyColumnName, seed,
            (model, scored) => catalog.Evaluate((FlexibleSurvivalTransformer)model, scored));
    }

    private static List<double> DefaultGrid(double[] time, bool[] isEvent, double[] sorted)
    {
        var first = time.Where((_, i) => isEvent[i]).Min();
        var last = sorted[(int)Math.Floor(0.9 * (sorted.Length - 1))];
        if (last <= first) return [first];
        return Enumerable.Range(0, 50).Select(k => first + (last - first) * k / 49).ToList();
    }
}
