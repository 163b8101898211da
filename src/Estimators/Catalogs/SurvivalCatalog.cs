using Microsoft.ML.PaperExtensions.Data;
using Microsoft.ML.PaperExtensions.Metrics;

namespace Microsoft.ML.PaperExtensions;

/// <summary>Survival analysis: trainers and evaluation. Get it with <c>mlContext.Survival()</c>.</summary>
public sealed class SurvivalCatalog : TaskCatalogBase
{
    internal SurvivalCatalog(MLContext mlContext) : base(mlContext) => Trainers = new TrainerCatalog<SurvivalCatalog>(this);

    /// <summary>Survival trainers.</summary>
    public TrainerCatalog<SurvivalCatalog> Trainers { get; }

    /// <summary>Harrell's C-index of a prediction column against right-censored times (see <see cref="SurvivalMetrics.ConcordanceIndex"/>).</summary>
    /// <param name="data">The data.</param>
    /// <param name="timeColumnName">Observed time, a positive Single or Double.</param>
    /// <param name="eventColumnName">Boolean, or numeric 0 (censored) / 1 (event).</param>
    /// <param name="scoreColumnName">The prediction: a time or survival probability, or a risk score when <paramref name="higherScoreMeansLongerSurvival"/> is false.</param>
    /// <param name="higherScoreMeansLongerSurvival">Whether a larger score means longer predicted survival.</param>
    public ConcordanceResult ConcordanceIndex(IDataView data, string timeColumnName, string eventColumnName, string scoreColumnName = "Score", bool higherScoreMeansLongerSurvival = true)
    {
        ArgumentNullException.ThrowIfNull(data);
        new InputColumns()
            .Add("score", nameof(scoreColumnName), scoreColumnName, ColumnTypes.Number)
            .Check(data.Schema);
        var outcome = new SurvivalOutcome.Columns(timeColumnName, eventColumnName, null, null, null, nameof(timeColumnName), nameof(eventColumnName));
        outcome.Declare(new InputColumns()).Check(data.Schema);
        var rows = SurvivalOutcome.Read(data, outcome, CancellationToken.None);
        var scores = DataViewReader.Read(data, new DataViewReader.Request([scoreColumnName], FeatureRole: "score", FeatureOption: nameof(scoreColumnName)));
        return SurvivalMetrics.ConcordanceIndex(rows.Time, rows.Event.Select(e => e == 1).ToArray(), scores.Features, higherScoreMeansLongerSurvival);
    }

    /// <summary>Evaluates scored rows of a flexible survival model (see <see cref="SurvivalEvaluator.Evaluate"/>).</summary>
    /// <param name="data">Scored rows with the observed outcome.</param>
    /// <param name="timeColumnName">Observed time, &gt; 0.</param>
    /// <param name="eventColumnName">Event indicator: Boolean, 0/1, or numeric with <paramref name="eventValue"/>.</param>
    /// <param name="eventValue">The event column's value that means an event; null for 0/1 or Boolean.</param>
    /// <param name="entryTimeColumnName">Optional entry times (left truncation).</param>
    /// <param name="exampleWeightColumnName">Optional weights of the log-likelihood.</param>
    /// <param name="brierTimes">The Brier grid; by default 50 times from the first event time to the 90th percentile of the observed times.</param>
    public SurvivalEvaluation Evaluate(IDataView data, string timeColumnName = "Time", string eventColumnName = "Event", double? eventValue = null,
        string? entryTimeColumnName = null, string? exampleWeightColumnName = null, IReadOnlyList<double>? brierTimes = null) =>
        SurvivalEvaluator.Evaluate(data, timeColumnName, eventColumnName, eventValue, SurvivalEvaluator.ParametersColumnName, entryTimeColumnName, exampleWeightColumnName, brierTimes);

    /// <summary>K-fold cross-validation of a survival estimator or pipeline, each held-out fold scored and evaluated with <see cref="Evaluate"/>.</summary>
    /// <param name="data">The data.</param>
    /// <param name="estimator">An estimator or pipeline that ends with a flexible survival trainer.</param>
    /// <param name="numberOfFolds">K, at least 2.</param>
    /// <param name="timeColumnName">Observed time.</param>
    /// <param name="eventColumnName">Event indicator.</param>
    /// <param name="eventValue">The event column's value that means an event; null for 0/1 or Boolean.</param>
    /// <param name="samplingKeyColumnName">Rows with the same value of this column stay in one fold; null for none.</param>
    /// <param name="seed">The seed of the fold assignment; null to draw it from the MLContext.</param>
    public IReadOnlyList<CrossValidationFold<SurvivalEvaluation>> CrossValidate(IDataView data, IEstimator<ITransformer> estimator, int numberOfFolds = 5,
        string timeColumnName = "Time", string eventColumnName = "Event", double? eventValue = null, string? samplingKeyColumnName = null, int? seed = null) =>
        CrossValidation.Run(Context, data, estimator, numberOfFolds, samplingKeyColumnName, seed, (_, scored) => Evaluate(scored, timeColumnName, eventColumnName, eventValue));
}
