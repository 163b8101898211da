using Microsoft.ML.PaperExtensions.Runtime;

namespace Microsoft.ML.PaperExtensions.AutoML;

/// <summary>
/// The default trial runner: builds the pipeline from the trial's parameter, fits it on each training set of the split and
/// scores each validation set. Every trial gets its own <see cref="MLContext"/> (seeded from the experiment's seed and the
/// trial number, so a trial is repeatable), a token that cancels our trainers between steps and ML.NET's through
/// ML.NET's cancellation of that context, and a libtorch thread limit so that parallel trials share the cores. It can also score a
/// parameter on another draw of the split (<see cref="RunOnResampleAsync"/>), for the experiment's final re-evaluation.
/// </summary>
public sealed class SweepablePipelineRunner : IResamplingTrialRunner
{
    private readonly MLContext _mlContext;
    private readonly SweepablePipeline _pipeline;
    private readonly DatasetSplit _split;
    private readonly AutoMLMetric _metric;
    private readonly int _seed;

    /// <summary>Creates the runner.</summary>
    /// <param name="mlContext">The experiment's context: its GPU settings carry over to each trial's context.</param>
    /// <param name="pipeline">The pipeline to build.</param>
    /// <param name="split">Training and validation rows.</param>
    /// <param name="metric">The metric of the validation rows.</param>
    /// <param name="seed">Seed of the trials' contexts (trial i uses seed + i).</param>
    /// <param name="threadsPerTrial">The most libtorch threads a trial's fits use; null for the fits' own choice.</param>
    public SweepablePipelineRunner(MLContext mlContext, SweepablePipeline pipeline, DatasetSplit split, AutoMLMetric metric, int seed = 0, int? threadsPerTrial = null)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(metric);
        if (threadsPerTrial is < 1) throw new ArgumentOutOfRangeException(nameof(threadsPerTrial), threadsPerTrial, "threadsPerTrial must be at least 1.");
        _mlContext = mlContext;
        _pipeline = pipeline;
        _split = split;
        _metric = metric;
        _seed = seed;
        ThreadsPerTrial = threadsPerTrial;
    }

    /// <summary>The most libtorch threads a trial's fits use; null for the fits' own choice.</summary>
    public int? ThreadsPerTrial { get; }

    /// <inheritdoc />
    public bool CanResample => _split.CanResample;

    /// <summary>Set by the experiment when it selects an ensemble: the search's trials keep their validation probabilities.</summary>
    internal EnsembleLibrary? Ensemble { get; set; }

    // Draw r of the split (r >= 1), made once and shared by every parameter scored on it.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, Lazy<DatasetSplit>> _resamples = new();

    /// <summary>
    /// Draw <paramref name="resample"/> of the split: the split drawn again with the seed <c>seed + 7919 x resample</c> (the
    /// search's own split is draw 0, drawn by the caller with <c>seed</c>).
    /// </summary>
    internal DatasetSplit Resample(int resample) =>
        _resamples.GetOrAdd(resample, r => new Lazy<DatasetSplit>(() => _split.Resample(unchecked(_seed + 7919 * r)))).Value;

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The split cannot be drawn again (a given pair).</exception>
    public Task<TrialResult> RunOnResampleAsync(TrialSettings settings, int resample, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfLessThan(resample, 1);
        if (!CanResample) throw new InvalidOperationException("The runner's split is a given training and validation pair; it cannot be drawn again.");
        return Task.Factory.StartNew(() =>
        {
            var result = Run(settings, Resample(resample), cancellationToken);
            (result.Model as IDisposable)?.Dispose();
            result.Model = null;
            return result;
        }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <inheritdoc />
    public Task<TrialResult> RunAsync(TrialSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return Task.Factory.StartNew(() => Run(settings, _split, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    // Trials take it shared; a trainer that must run alone takes it exclusively (see SweepableEstimator.RunsExclusively).
    private readonly ReaderWriterLockSlim _exclusive = new();

    private TrialResult Run(TrialSettings settings, DatasetSplit split, CancellationToken cancellationToken)
    {
        var alone = _pipeline.RunsExclusively(settings.Parameter);
        while (!(alone ? _exclusive.TryEnterWriteLock(100) : _exclusive.TryEnterReadLock(100))) cancellationToken.ThrowIfCancellationRequested();
        try
        {
            return RunHoldingLock(settings, split, cancellationToken);
        }
        finally
        {
            if (alone) _exclusive.ExitWriteLock();
            else _exclusive.ExitReadLock();
        }
    }

    private TrialResult RunHoldingLock(TrialSettings settings, DatasetSplit split, CancellationToken cancellationToken)
    {
        using var limit = ThreadsPerTrial is { } threads ? ThreadPolicy.LimitTo(threads) : null;
        var metrics = new List<double>(split.Folds.Count);
        var scores = Ensemble is not null && ReferenceEquals(split, _split) ? new List<float[]>(split.Folds.Count) : null;
        var trialContext = TrialContext(settings);
        ITransformer? model = null;
        foreach (var (train, validation) in split.Folds)
        {
            (model as IDisposable)?.Dispose();
            model = Fit(trialContext, settings, train, cancellationToken);
            var scored = model.Transform(validation);
            var value = _metric.Evaluate(trialContext, scored);
            if (!double.IsFinite(value))
                throw new InvalidOperationException($"The metric '{_metric.Name}' is {value} on the validation rows of fold {metrics.Count + 1}.");
            metrics.Add(value);
            scores?.Add(Ensemble!.ReadScores(scored));
        }
        var mean = metrics.Average();
        return new TrialResult
        {
            TrialSettings = settings,
            Status = TrialStatus.Completed,
            Metric = mean,
            Loss = _metric.IsMaximize ? -mean : mean,
            FoldMetrics = metrics,
            Model = model,
            ValidationScores = scores,
        };
    }

    /// <summary>Fits the trial's pipeline on all rows of a cross-validated split (the final model after the search).</summary>
    internal ITransformer Refit(TrialSettings settings, CancellationToken cancellationToken)
    {
        using var limit = ThreadsPerTrial is { } threads ? ThreadPolicy.LimitTo(threads) : null;
        return Fit(TrialContext(settings), settings, _split.RefitData ?? throw new InvalidOperationException("Only a cross-validated split is refitted."), cancellationToken);
    }

    // ML.NET's trainers stop at their next check once their context is cancelled; the method is internal to ML.NET (the
    // Microsoft.ML.Experimental package exposes it), hence reflection. Without it, an ML.NET fit runs to its end.
    private static readonly System.Reflection.MethodInfo? CancelExecution =
        typeof(MLContext).GetMethod("CancelExecution", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public);

    // MLContext is not thread-safe: each trial has its own.
    private MLContext TrialContext(TrialSettings settings) => new(unchecked(_seed + settings.TrialId))
    {
        GpuDeviceId = _mlContext.GpuDeviceId,
        FallbackToCpu = _mlContext.FallbackToCpu,
    };

    private ITransformer Fit(MLContext trialContext, TrialSettings settings, IDataView train, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var cancelMlNet = cancellationToken.Register(() => CancelExecution?.Invoke(trialContext, null));
        var estimator = _pipeline.Build(trialContext, settings.Parameter);
        var model = estimator.Fit(train, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        return model;
    }
}
