namespace Microsoft.ML.PaperExtensions.Metrics;

/// <summary>One fold of a cross-validation: the model fitted without the fold, its predictions on the fold, and their metrics.</summary>
/// <typeparam name="TMetrics">The task's metrics.</typeparam>
/// <param name="Fold">0-based fold number.</param>
/// <param name="Model">The model fitted on the other folds.</param>
/// <param name="ScoredTestData">The fold's rows with the model's predictions.</param>
/// <param name="Metrics">The metrics of those predictions.</param>
public sealed record CrossValidationFold<TMetrics>(int Fold, ITransformer Model, IDataView ScoredTestData, TMetrics Metrics);

/// <summary>K-fold cross-validation for tasks ML.NET has no <c>CrossValidate</c> for, on ML.NET's own fold split.</summary>
internal static class CrossValidation
{
    public static IReadOnlyList<CrossValidationFold<TMetrics>> Run<TMetrics>(
        MLContext mlContext, IDataView data, IEstimator<ITransformer> estimator, int numberOfFolds, string? samplingKeyColumnName, int? seed,
        Func<ITransformer, IDataView, TMetrics> evaluate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(estimator);
        ArgumentOutOfRangeException.ThrowIfLessThan(numberOfFolds, 2);
        if (data.GetRowCount() is { } rows && rows < numberOfFolds)
        {
            throw new ArgumentOutOfRangeException(nameof(numberOfFolds), numberOfFolds, $"numberOfFolds ({numberOfFolds}) is larger than the number of rows ({rows}).");
        }
        var folds = new List<CrossValidationFold<TMetrics>>(numberOfFolds);
        foreach (var split in mlContext.Data.CrossValidationSplit(data, numberOfFolds, samplingKeyColumnName, seed))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var model = estimator.Fit(split.TrainSet);
            var scored = model.Transform(split.TestSet);
            folds.Add(new CrossValidationFold<TMetrics>(folds.Count, model, scored, evaluate(model, scored)));
        }
        return folds;
    }
}
