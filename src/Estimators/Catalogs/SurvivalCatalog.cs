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
        var times = DataViewReader.Read(data, new DataViewReader.Request([timeColumnName], eventColumnName, LabelKind.Boolean | LabelKind.Numeric, FeatureRole: "time"));
        var scores = DataViewReader.Read(data, new DataViewReader.Request([scoreColumnName], FeatureRole: "score"));
        var events = new bool[times.RowCount];
        for (var i = 0; i < events.Length; i++)
        {
            if (times.Features[i] <= 0)
            {
                throw new ArgumentException($"Time column '{timeColumnName}' has the non-positive value {times.Features[i]} at row {i}.", nameof(timeColumnName));
            }
            events[i] = times.Label![i] switch
            {
                0 => false,
                1 => true,
                var v => throw new ArgumentException($"Event column '{eventColumnName}' has the value {v} at row {i}; expected 0 (censored) or 1 (event).", nameof(eventColumnName)),
            };
        }
        return SurvivalMetrics.ConcordanceIndex(times.Features, events, scores.Features, higherScoreMeansLongerSurvival);
    }
}
