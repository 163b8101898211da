using Microsoft.ML.PaperExtensions.Runtime;

namespace Microsoft.ML.PaperExtensions;

/// <summary>
/// An estimator whose fit reports progress and can be cancelled: every trainer of this package. The AutoML trial runner and
/// the command line call this overload; inside a pipeline, <see cref="TrainingScope"/> gives the same to
/// <c>IEstimator.Fit(data)</c>.
/// </summary>
/// <typeparam name="TTransformer">The fitted transformer.</typeparam>
public interface ICancellableEstimator<out TTransformer> : IEstimator<TTransformer> where TTransformer : ITransformer
{
    /// <summary>Fits the model, reporting progress and checking <paramref name="cancellationToken"/> between steps.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled; no model is returned.</exception>
    TTransformer Fit(IDataView input, CancellationToken cancellationToken, IProgress<TrainingProgress>? progress = null);
}

/// <summary>Cancellation and progress for any estimator, pipelines included.</summary>
public static class CancellableFitExtensions
{
    /// <summary>
    /// Fits <paramref name="estimator"/> (a trainer of this package, or a pipeline that holds some) with a cancellation token and
    /// progress reports: directly for our trainers, through a <see cref="TrainingScope"/> for anything else.
    /// </summary>
    public static TTransformer Fit<TTransformer>(this IEstimator<TTransformer> estimator, IDataView input, CancellationToken cancellationToken,
        IProgress<TrainingProgress>? progress = null) where TTransformer : ITransformer
    {
        ArgumentNullException.ThrowIfNull(estimator);
        ArgumentNullException.ThrowIfNull(input);
        cancellationToken.ThrowIfCancellationRequested();
        if (estimator is ICancellableEstimator<TTransformer> ours)
        {
            return ours.Fit(input, cancellationToken, progress);
        }
        using var scope = TrainingScope.Begin(cancellationToken, progress);
        var model = estimator.Fit(input);
        cancellationToken.ThrowIfCancellationRequested();
        return model;
    }
}
