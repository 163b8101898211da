using Microsoft.ML.PaperExtensions.Metrics;

namespace Microsoft.ML.PaperExtensions;

/// <summary>
/// Semi-supervised classification. Get it with <c>mlContext.SemiSupervised()</c>. Its models emit ML.NET's multiclass
/// columns, so <c>mlContext.MulticlassClassification.Evaluate</c> scores them too.
/// </summary>
public sealed class SemiSupervisedCatalog : TaskCatalogBase
{
    internal SemiSupervisedCatalog(MLContext mlContext) : base(mlContext) => Trainers = new TrainerCatalog<SemiSupervisedCatalog>(this);

    /// <summary>Semi-supervised trainers.</summary>
    public TrainerCatalog<SemiSupervisedCatalog> Trainers { get; }

    /// <summary>Accuracy and macro-F1 over rows of known classes, and how well low confidence flags the others (see <see cref="SemiSupervisedEvaluator.Evaluate"/>).</summary>
    /// <param name="data">Scored rows with their true label.</param>
    /// <param name="labelColumnName">The true class: key, numeric or text.</param>
    /// <param name="predictedLabelColumnName">The predicted class, a key column with the class names.</param>
    /// <param name="confidenceColumnName">Higher = more likely a known class (for example <c>KnownClassConfidence</c>, which every semi-supervised model of this package writes); null for none.</param>
    public SemiSupervisedEvaluation Evaluate(IDataView data, string labelColumnName = ColumnNames.Label, string predictedLabelColumnName = ColumnNames.PredictedLabel,
        string? confidenceColumnName = null) =>
        SemiSupervisedEvaluator.Evaluate(data, labelColumnName, predictedLabelColumnName, confidenceColumnName);
}
