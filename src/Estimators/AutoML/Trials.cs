namespace Microsoft.ML.PaperExtensions.AutoML;

/// <summary>What a trial runs: its number and the parameter the tuner proposed.</summary>
/// <param name="TrialId">0-based, in the order trials start.</param>
/// <param name="Parameter">A point of the pipeline's search space.</param>
public sealed record TrialSettings(int TrialId, Parameter Parameter);

/// <summary>How a trial ended.</summary>
public enum TrialStatus
{
    /// <summary>Fitted and evaluated.</summary>
    Completed,

    /// <summary>The fit or the evaluation threw; <see cref="TrialResult.Exception"/> says why.</summary>
    Failed,

    /// <summary>Stopped by the per-trial time limit, the experiment's budget or the caller's token.</summary>
    Cancelled,
}

/// <summary>One trial's outcome. The engine minimises <see cref="Loss"/> = -metric for a metric to maximise, else the metric.</summary>
public sealed class TrialResult
{
    /// <summary>The trial that ran.</summary>
    public required TrialSettings TrialSettings { get; init; }

    /// <summary>How it ended.</summary>
    public required TrialStatus Status { get; init; }

    /// <summary>The validation metric (the mean over folds under cross-validation); NaN unless completed.</summary>
    public double Metric { get; init; } = double.NaN;

    /// <summary>What the tuner minimises: the metric, negated for a metric to maximise; +infinity unless completed.</summary>
    public double Loss { get; init; } = double.PositiveInfinity;

    /// <summary>The metric of each fold (one value for a holdout split).</summary>
    public IReadOnlyList<double> FoldMetrics { get; init; } = [];

    /// <summary>Wall-clock time of the trial, fit and evaluation, as the experiment measured it.</summary>
    public double DurationInMilliseconds { get; internal set; }

    /// <summary>The fitted model (the best trial's, after the experiment); null for other trials, whose models are disposed.</summary>
    public ITransformer? Model { get; internal set; }

    /// <summary>Why a trial failed or was cancelled.</summary>
    public Exception? Exception { get; init; }

    /// <summary>
    /// For a final re-evaluation (<see cref="AutoMLExperiment.SetFinalReevaluation"/>): the <see cref="TrialSettings.TrialId"/> of
    /// the search trial whose parameter this result scored again on another draw of the split; null for a search trial.
    /// </summary>
    public int? ReevaluationOf { get; internal set; }

    /// <summary>
    /// What the final choice compared, for a search trial that was re-evaluated (<see cref="AutoMLExperiment.SetFinalReevaluation"/>):
    /// the mean of <see cref="Metric"/> over its draws of the split, its own and its re-evaluations' (with draws of equal fold
    /// counts, the mean over all their folds). NaN for a trial that was not re-evaluated.
    /// </summary>
    public double SelectionMetric { get; internal set; } = double.NaN;

    /// <summary>
    /// For the result of an ensemble (<see cref="AutoMLExperiment.SetEnsemble"/>): the search trials averaged and their weights,
    /// the largest first; <see cref="Model"/> is then an <see cref="EnsembleModel"/>. Null for a single trial.
    /// </summary>
    public IReadOnlyList<EnsembleMember>? Ensemble { get; internal set; }

    /// <summary>With an ensemble on: the class probabilities of each fold's validation rows, until the experiment keeps them.</summary>
    internal IReadOnlyList<float[]>? ValidationScores { get; set; }

    /// <summary>The pipeline branch (trainer) the parameter chose, or null for a space without branches.</summary>
    public string? TrainerName => TrialSettings.Parameter.TryGetValue(BranchSearchSpace.BranchKey, out var name) ? name as string : null;
}

/// <summary>Proposes the next parameter and learns from results, as Microsoft.ML.AutoML's <c>ITuner</c>.</summary>
public interface ITuner
{
    /// <summary>The parameter of the next trial, or null when the tuner has nothing left to propose (a finished grid).</summary>
    Parameter? Propose(TrialSettings settings);

    /// <summary>Records a result (failed and cancelled trials have an infinite loss).</summary>
    void Update(TrialResult result);
}

/// <summary>Runs one trial: builds the pipeline from the parameter, fits, evaluates.</summary>
public interface ITrialRunner
{
    /// <summary>Runs the trial; throws <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires.</summary>
    Task<TrialResult> RunAsync(TrialSettings settings, CancellationToken cancellationToken);
}

/// <summary>
/// A trial runner that can also score a parameter on another draw of its split (the same rows, assigned to folds under another
/// seed), which the experiment's final re-evaluation needs (<see cref="AutoMLExperiment.SetFinalReevaluation"/>). The default
/// runner, <see cref="SweepablePipelineRunner"/>, is one where its split can be drawn again (<see cref="DatasetSplit.CanResample"/>).
/// </summary>
public interface IResamplingTrialRunner : ITrialRunner
{
    /// <summary>Whether <see cref="RunOnResampleAsync"/> can run (false, for example, for a given training and validation pair).</summary>
    bool CanResample { get; }

    /// <summary>
    /// Runs the trial on draw <paramref name="resample"/> (1, 2, ...) of the split: each number is one fixed draw, the same for
    /// every parameter, so that parameters are compared on the same rows. The result's <see cref="TrialResult.Model"/> may be null.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
    Task<TrialResult> RunOnResampleAsync(TrialSettings settings, int resample, CancellationToken cancellationToken);
}

/// <summary>Hears about trials as they run, as Microsoft.ML.AutoML's <c>IMonitor</c>. Calls come from the trials' threads, one at a time.</summary>
public interface IMonitor
{
    /// <summary>A trial starts.</summary>
    void ReportRunningTrial(TrialSettings settings);

    /// <summary>A trial completed.</summary>
    void ReportCompletedTrial(TrialResult result);

    /// <summary>A completed trial is the best so far.</summary>
    void ReportBestTrial(TrialResult result);

    /// <summary>A trial failed or was cancelled.</summary>
    void ReportFailTrial(TrialSettings settings, Exception? exception);
}
