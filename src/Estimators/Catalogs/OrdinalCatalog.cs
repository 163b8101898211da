using Microsoft.ML.PaperExtensions.Metrics;

namespace Microsoft.ML.PaperExtensions;

/// <summary>Ordinal regression: trainers and evaluation. Get it with <c>mlContext.Ordinal()</c>.</summary>
public sealed class OrdinalCatalog : TaskCatalogBase
{
    internal OrdinalCatalog(MLContext mlContext) : base(mlContext) => Trainers = new TrainerCatalog<OrdinalCatalog>(this);

    /// <summary>Ordinal trainers.</summary>
    public TrainerCatalog<OrdinalCatalog> Trainers { get; }

    /// <summary>Evaluates predicted probabilities of ordered classes (see <see cref="OrdinalEvaluator.Evaluate"/>).</summary>
    /// <param name="data">Scored data.</param>
    /// <param name="labelColumnName">The true class: a key column, or numeric class values or indices.</param>
    /// <param name="scoreColumnName">A known-size vector of K class probabilities, in class order.</param>
    /// <param name="rareClass">The 0-based class whose probability matters most; the last class when null.</param>
    /// <param name="crossingRepairedColumnName">A Boolean column of repaired rows to count (ordinal models of this package write <c>CrossingRepaired</c>); null for none.</param>
    public OrdinalEvaluation Evaluate(IDataView data, string labelColumnName = ColumnNames.Label, string scoreColumnName = ColumnNames.Score, int? rareClass = null,
        string? crossingRepairedColumnName = null) =>
        OrdinalEvaluator.Evaluate(data, labelColumnName, scoreColumnName, rareClass, crossingRepairedColumnName: crossingRepairedColumnName);

    /// <summary>
    /// K-fold cross-validation of an ordinal estimator: fits on K-1 folds, scores the held-out fold and evaluates it
    /// with <see cref="Evaluate"/>.
    /// </summary>
    /// <param name="data">The data.</param>
    /// <param name="estimator">The estimator (or pipeline) to validate; it must write the class probabilities to <paramref name="scoreColumnName"/>.</param>
    /// <param name="numberOfFolds">K, at least 2 and at most the number of rows.</param>
    /// <param name="labelColumnName">The true class column.</param>
    /// <param name="scoreColumnName">The class probability column the estimator writes.</param>
    /// <param name="samplingKeyColumnName">Rows with the same value of this column stay in one fold (for example a respondent id); null for none.</param>
    /// <param name="seed">The seed of the fold assignment; null to draw it from the MLContext.</param>
    public IReadOnlyList<CrossValidationFold<OrdinalEvaluation>> CrossValidate(IDataView data, IEstimator<ITransformer> estimator, int numberOfFolds = 5,
        string labelColumnName = "Label", string scoreColumnName = "Score", string? samplingKeyColumnName = null, int? seed = null) =>
        CrossValidation.Run(Context, data, estimator, numberOfFolds, samplingKeyColumnName, seed, (_, scored) => Evaluate(scored, labelColumnName, scoreColumnName));
}
