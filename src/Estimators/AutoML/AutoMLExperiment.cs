using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;
using Microsoft.ML.PaperExtensions.Runtime;

namespace Microsoft.ML.PaperExtensions.AutoML;

/// <summary>
/// A search over a pipeline's trainers and options, in the shape of Microsoft.ML.AutoML's <c>AutoMLExperiment</c>:
/// <code>
/// var experiment = mlContext.PaperAutoML().CreateExperiment()
///     .SetPipeline(pipeline)
///     .SetDataset(data, fold: 5)
///     .SetMetric(AutoMLMetric.For(AutoMLTask.Ordinal, "brier", "Label"))
///     .SetTrainingTimeInSeconds(60);
/// TrialResult best = await experiment.RunAsync();
/// </code>
/// The default tuner is <see cref="CostFrugalTuner"/> (a task experiment for survival uses <see cref="SmacTuner"/> instead,
/// see <c>AutoMLTaskExtensions.CreateExperiment</c>). Trials that throw are recorded (<see cref="Trials"/>) and the search
/// goes on; after <see cref="SetMaximumFailedTrials"/> failures in a row it stops with the first error. With
/// <see cref="SetFinalReevaluation"/>, the best few trials are scored again on another draw of the split before one is returned.
/// </summary>
public sealed class AutoMLExperiment
{
    private readonly MLContext _mlContext;
    private readonly List<TrialResult> _trials = [];
    private readonly object _gate = new();
    private SweepablePipeline? _pipeline;
    private Func<int, DatasetSplit>? _split;
    private AutoMLMetric? _metric;
    private Func<OptionBase, int, ITuner>? _tunerFactory;
    private ITuner? _tuner;
    private ITrialRunner? _runner;
    private IMonitor? _monitor;
    private double _budgetSeconds = double.PositiveInfinity;
    private double _trialLimitSeconds = double.PositiveInfinity;
    private int _maxTrials = int.MaxValue;
    private int _parallelTrials = 1;
    private int _maxFailures = 10;
    private int? _seed;
    private int _reevaluatedTrials;
    private int _reevaluationDraws = 1;
    private int _ensembleSteps;
    private string _ensembleLabel = ColumnNames.Label;
    private ITransformer? _fittedPrefix;

    internal AutoMLExperiment(MLContext mlContext) => _mlContext = mlContext;

    /// <summary>Every trial so far, in the order they ended.</summary>
    public IReadOnlyList<TrialResult> Trials
    {
        get
        {
            lock (_gate) return [.. _trials];
        }
    }

    /// <summary>The metric trials are compared by, once set.</summary>
    public AutoMLMetric? Metric => _metric;

    /// <summary>The pipeline whose trainers and options are searched.</summary>
    public AutoMLExperiment SetPipeline(SweepablePipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        _pipeline = pipeline;
        return this;
    }

    /// <summary>A pipeline of one sweepable estimator.</summary>
    public AutoMLExperiment SetPipeline(SweepableEstimator estimator) => SetPipeline(new SweepablePipeline(estimator));

    /// <summary>A given training set and validation set.</summary>
    public AutoMLExperiment SetDataset(IDataView train, IDataView validation) => SetDataset(DatasetSplit.Holdout(train, validation));

    /// <summary>K-fold cross-validation on <paramref name="data"/> (seeded by the experiment's seed); the final model is refitted on all rows.</summary>
    public AutoMLExperiment SetDataset(IDataView data, int fold = 5)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(fold, 2);
        _split = seed => DatasetSplit.CrossValidation(data, fold, seed);
        return this;
    }

    /// <summary>Any split, for example <see cref="DatasetSplit.Random"/> with semi-supervised rows kept in training.</summary>
    public AutoMLExperiment SetDataset(DatasetSplit split)
    {
        ArgumentNullException.ThrowIfNull(split);
        _split = _ => split;
        return this;
    }

    /// <summary>The metric trials are scored and compared by.</summary>
    public AutoMLExperiment SetMetric(AutoMLMetric metric)
    {
        ArgumentNullException.ThrowIfNull(metric);
        _metric = metric;
        return this;
    }

    /// <summary>The search's time budget: trials still running when it ends are cancelled. Without it, the search ends by the trial count.</summary>
    public AutoMLExperiment SetTrainingTimeInSeconds(double seconds)
    {
        if (!(seconds > 0)) throw new ArgumentOutOfRangeException(nameof(seconds), seconds, $"The training time must be positive, but is {seconds} s.");
        _budgetSeconds = seconds;
        return this;
    }

    /// <summary>The most trials to start (Microsoft.ML.AutoML's name for it).</summary>
    public AutoMLExperiment SetMaxModelToExplore(int maxTrials)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTrials, 1);
        _maxTrials = maxTrials;
        return this;
    }

    /// <summary>A trial running longer than this is cancelled and recorded as such.</summary>
    public AutoMLExperiment SetTrialTimeLimitInSeconds(double seconds)
    {
        if (!(seconds > 0)) throw new ArgumentOutOfRangeException(nameof(seconds), seconds, $"The trial time limit must be positive, but is {seconds} s.");
        _trialLimitSeconds = seconds;
        return this;
    }

    /// <summary>A tuner of your own (it must search the pipeline's <see cref="SweepablePipeline.SearchSpace"/>).</summary>
    public AutoMLExperiment SetTuner(ITuner tuner)
    {
        ArgumentNullException.ThrowIfNull(tuner);
        _tuner = tuner;
        _tunerFactory = null;
        return this;
    }

    /// <summary>Random search (seeded by the experiment's seed).</summary>
    public AutoMLExperiment SetRandomSearchTuner() => SetTunerFactory((space, seed) => new RandomSearchTuner(space, seed));

    /// <summary>Grid search with <paramref name="steps"/> points per range; the experiment ends when the grid is done.</summary>
    public AutoMLExperiment SetGridSearchTuner(int steps = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        return SetTunerFactory((space, _) => new GridSearchTuner(space, steps));
    }

    /// <summary>Cost-frugal local search with a choice among trainers (the default).</summary>
    public AutoMLExperiment SetCostFrugalTuner() => SetTunerFactory((space, seed) => new CostFrugalTuner(space, seed));

    /// <summary>
    /// Model-based search (SMAC: a random-forest surrogate and expected improvement) with the same choice among trainers; for
    /// spaces of choices whose good points may lie far from the initial values.
    /// </summary>
    /// <param name="randomFraction">The probability of an interleaved uniform random trial; see <see cref="SmacTuner"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="randomFraction"/> is outside [0, 1].</exception>
    public AutoMLExperiment SetSmacTuner(double randomFraction = SmacTuner.DefaultRandomFraction)
    {
        SmacTuner.CheckRandomFraction(randomFraction);
        return SetTunerFactory((space, seed) => new SmacTuner(space, seed, randomFraction: randomFraction));
    }

    private AutoMLExperiment SetTunerFactory(Func<OptionBase, int, ITuner> factory)
    {
        _tunerFactory = factory;
        _tuner = null;
        return this;
    }

    /// <summary>Where progress goes.</summary>
    public AutoMLExperiment SetMonitor(IMonitor monitor)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        _monitor = monitor;
        return this;
    }

    /// <summary>A trial runner of your own (then the pipeline, dataset and metric are not needed; the tuner is).</summary>
    public AutoMLExperiment SetTrialRunner(ITrialRunner runner)
    {
        ArgumentNullException.ThrowIfNull(runner);
        _runner = runner;
        return this;
    }

    /// <summary>How many trials run at once; each gets an equal share of libtorch's threads.</summary>
    public AutoMLExperiment SetParallelTrials(int trials)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trials, 1);
        _parallelTrials = trials;
        return this;
    }

    /// <summary>Stop after this many failed trials in a row (default 10).</summary>
    public AutoMLExperiment SetMaximumFailedTrials(int failures)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failures, 1);
        _maxFailures = failures;
        return this;
    }

    /// <summary>
    /// Before returning, scores the <paramref name="trials"/> best completed trials again on <paramref name="draws"/> further draws
    /// of the split (the same rows assigned to folds, or to the holdout, under other seeds; <see cref="DatasetSplit.Resample"/>) and
    /// returns the one whose metric, averaged over all its draws, is best (<see cref="TrialResult.SelectionMetric"/>).
    /// </summary>
    /// <remarks>
    /// <para>Why: on small data the validation metric of a trial is noisy, and the best of many noisy scores is mostly the
    /// luckiest (the winner's curse); the better a tuner is at finding high scores, the more it selects for that noise. Scoring the
    /// leading trials on rows assigned differently, and choosing by the mean, is SMAC's intensification applied once at the end:
    /// a trial stays the winner only if its lead holds on other rows. Task experiments turn it on for data with fewer than
    /// 1,000 rows that can be held out (<c>AutoMLTaskExtensions.CreateExperiment</c>).</para>
    /// <para>Budget: the re-evaluations are part of it. Each counts as one trial against <see cref="SetMaxModelToExplore"/> (the
    /// search itself starts <c>trials x draws</c> fewer; <paramref name="trials"/> is cut to a third of the trial count if
    /// needed, and the re-evaluation is skipped when fewer than two fit), and under <see cref="SetTrainingTimeInSeconds"/> the
    /// search stops early enough for them: no new trial starts once the time left is below the measured duration of the
    /// current best <paramref name="trials"/> trials, times <paramref name="draws"/> and 1.25, plus the mean duration of a trial
    /// (the one that would start). They are listed in <see cref="Trials"/> with <see cref="TrialResult.ReevaluationOf"/> set.
    /// A trial whose re-evaluation failed or was cut off by the budget is not chosen; if none completed, the search's best is
    /// returned. Re-evaluations run one at a time, the best trial first.</para>
    /// <para>It needs a runner that can draw the split again: the default runner with <see cref="SetDataset(IDataView, int)"/>
    /// or a split from <see cref="DatasetSplit.CrossValidation"/> or <see cref="DatasetSplit.Random"/>, or an
    /// <see cref="IResamplingTrialRunner"/> of your own; otherwise (a given training and validation pair) it is skipped and the
    /// whole budget goes to the search.</para>
    /// </remarks>
    /// <param name="trials">How many of the best trials are scored again; 0 turns the re-evaluation off (the default of a bare experiment).</param>
    /// <param name="draws">How many further draws of the split each is scored on (at least 1).</param>
    public AutoMLExperiment SetFinalReevaluation(int trials = 5, int draws = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(trials);
        ArgumentOutOfRangeException.ThrowIfLessThan(draws, 1);
        _reevaluatedTrials = trials;
        _reevaluationDraws = draws;
        return this;
    }

    /// <summary>
    /// After the search, averages the class probabilities of several trials when that scores better than the best trial alone:
    /// Caruana et al.'s ensemble selection on the trials' validation probabilities. The result is
    /// then not one of <see cref="Trials"/>: its <see cref="TrialResult.Ensemble"/> lists the trials and weights, its metric is
    /// the average's on the same validation rows, and its model an <see cref="EnsembleModel"/> whose members are refitted as the
    /// best trial is (on all rows under cross-validation; after the budget, as that refit is).
    /// </summary>
    /// <remarks>
    /// <para>Why: where several trainers score alike (ordinal soup.csv: PRESTO, L-BFGS, LightGBM within the noise of
    /// cross-validation), the best of them by validation score is mostly the luckiest, while an average of different models is
    /// better than each on new rows (docs/benchmarks.md, "Ensemble selection in the engine"). The task experiment for ordinal
    /// data turns it on from 1,000 rows that can be held out; on fewer, the average is chosen on too few rows.</para>
    /// <para>Needs the default trial runner, a key label and trials that write a <c>Score</c> vector of one probability per
    /// class (classification pipelines); a trial that writes none fails with an error that says so. The best 8 trials of
    /// each trainer by loss keep their validation probabilities (8 x trainers x validation rows x classes floats; per trainer,
    /// so that a long local search around one trainer does not fill the library with near copies); the selection starts from the
    /// returned single trial (the search's best, or the final re-evaluation's choice) and adds a trial, with replacement, while
    /// an addition lowers the metric's loss, at most <paramref name="steps"/> - 1 times. The result's
    /// <see cref="TrialResult.DurationInMilliseconds"/> is the selection's time and the members' fits.</para>
    /// </remarks>
    /// <param name="steps">The most trials in the average, counted with repetition (a trial added twice weighs twice); 0 or 1 turns the ensemble off (the default of a bare experiment).</param>
    /// <param name="labelColumnName">The key label the probabilities are indexed by.</param>
    public AutoMLExperiment SetEnsemble(int steps = 20, string labelColumnName = ColumnNames.Label)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        ArgumentException.ThrowIfNullOrWhiteSpace(labelColumnName);
        _ensembleSteps = steps;
        _ensembleLabel = labelColumnName;
        return this;
    }

    // The trials of each trainer whose validation probabilities an ensemble selection keeps.
    private const int EnsembleLibraryCapacity = 8;

    /// <summary>The seed of the tuner, the split and the trials; by default one drawn from the MLContext.</summary>
    public AutoMLExperiment SetSeed(int seed)
    {
        _seed = seed;
        return this;
    }

    /// <summary>
    /// A transformer fitted on all rows before the split (a task experiment's label-to-key mapping): the data the trials see went
    /// through it, and the returned model starts with it, so that it scores data in the caller's layout.
    /// </summary>
    internal AutoMLExperiment SetFittedPrefix(ITransformer prefix)
    {
        _fittedPrefix = prefix;
        return this;
    }

    private int Seed => _seed ??= ((Microsoft.ML.Runtime.IHostEnvironment)_mlContext).Register(nameof(AutoMLExperiment)).Rand.Next();

    /// <summary>
    /// Runs trials until the time budget, the trial count, the grid or the caller's token ends the search, and returns the best
    /// completed trial with its fitted model (refitted on all rows under cross-validation; that refit runs after the budget).
    /// A token cancelled after some trial completed returns the best so far, with the model of its last fold (no refit).
    /// </summary>
    /// <exception cref="InvalidOperationException">Something the search needs is not set; no trial completed within the budget;
    /// or the failures in a row reached the limit before any trial completed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled before any trial completed.</exception>
    public async Task<TrialResult> RunAsync(CancellationToken cancellationToken = default)
    {
        var split = _runner is null ? (_split ?? throw new InvalidOperationException("Set a dataset (SetDataset) before running."))(Seed) : null;
        var runner = _runner ?? DefaultRunner(split!);
        EnsembleLibrary? library = null;
        if (_ensembleSteps > 1)
        {
            if (runner is not SweepablePipelineRunner defaultRunner || split is null)
                throw new InvalidOperationException("An ensemble (SetEnsemble) needs the default trial runner, which keeps the trials' validation probabilities; with a runner of your own, call SetEnsemble(0).");
            library = new EnsembleLibrary(split, _ensembleLabel, EnsembleLibraryCapacity);
            defaultRunner.Ensemble = library;
        }
        var tuner = _tuner ?? (_tunerFactory ?? ((space, seed) => new CostFrugalTuner(space, seed)))(
            _pipeline?.SearchSpace ?? throw new InvalidOperationException("Set a pipeline (SetPipeline) or a tuner (SetTuner) before running."), Seed);
        lock (_gate) _trials.Clear();

        var watch = Stopwatch.StartNew();
        using var budget = new CancellationTokenSource();
        if (double.IsFinite(_budgetSeconds)) budget.CancelAfter(TimeSpan.FromSeconds(_budgetSeconds));
        using var search = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, budget.Token);
        var resampling = runner as IResamplingTrialRunner;
        var reevaluated = resampling is { CanResample: true } && _reevaluatedTrials > 0
            ? Math.Min(_reevaluatedTrials, _maxTrials == int.MaxValue ? int.MaxValue : _maxTrials / (3 * _reevaluationDraws))
            : 0;
        if (reevaluated < 2) reevaluated = 0; // one candidate is no choice
        var state = new SearchState
        {
            Watch = watch,
            MaxTrials = reevaluated == 0 || _maxTrials == int.MaxValue ? _maxTrials : _maxTrials - reevaluated * _reevaluationDraws,
            Reevaluated = reevaluated,
        };
        await Task.WhenAll(Enumerable.Range(0, _parallelTrials).Select(_ => Task.Run(() => Worker(runner, tuner, state, library, search.Token, cancellationToken), CancellationToken.None)));

        var best = state.Best;
        if (best is null)
        {
            if (state.FirstFailure is { } failure && !search.IsCancellationRequested)
                throw new InvalidOperationException($"No trial completed: {state.Failures} trial(s) failed in a row; the first error: {failure.Message}", failure);
            cancellationToken.ThrowIfCancellationRequested();
            throw new InvalidOperationException(_trials.Count == 0 && state.Exhausted
                ? "The tuner proposed no trial (an empty grid)."
                : $"No trial completed within the training time of {_budgetSeconds.ToString(CultureInfo.InvariantCulture)} s " +
                  $"({_trials.Count} started, {_trials.Count(t => t.Status == TrialStatus.Failed)} failed); no model is returned. Give the search more time.",
                state.FirstFailure);
        }
        if (reevaluated > 0 && !cancellationToken.IsCancellationRequested)
        {
            var chosen = await Reevaluate(resampling!, reevaluated, state, search.Token, cancellationToken);
            // A caller who cancelled meanwhile gets the search's best with its model at once, as without re-evaluation.
            if (!ReferenceEquals(chosen, best) && !cancellationToken.IsCancellationRequested)
            {
                // The chosen trial's model was disposed during the search: under cross-validation the refit below makes it;
                // otherwise its trial is run again for the model (after the budget, as the refit is).
                (best.Model as IDisposable)?.Dispose();
                best.Model = null;
                if (split?.RefitData is null || runner is not SweepablePipelineRunner)
                {
                    var again = await runner.RunAsync(chosen.TrialSettings, cancellationToken);
                    chosen.Model = again.Model;
                }
                best = chosen;
            }
        }
        if (library is not null && !cancellationToken.IsCancellationRequested)
        {
            var selection = Stopwatch.StartNew();
            var (members, metric, foldMetrics) = library.Select(best, _metric!, _mlContext, _ensembleSteps, cancellationToken);
            var selectionSeconds = selection.Elapsed.TotalSeconds;
            if (members.Count > 1)
            {
                var single = best;
                best = await FitEnsemble((SweepablePipelineRunner)runner, split!, single, members, metric, foldMetrics, library.ClassCount, state.Started, cancellationToken);
                best.DurationInMilliseconds += selectionSeconds * 1000;
                TrainingContext.Log(_mlContext, nameof(AutoMLExperiment), $"ensemble of {members.Count} trials ({string.Join(", ", members.Select(m => $"trial {m.Trial.TrialSettings.TrialId} x {m.Weight:G3}"))}): " +
                    $"{_metric!.Name} {metric:G6} against {single.Metric:G6} for trial {single.TrialSettings.TrialId} alone; selection {selectionSeconds:F1} s, members fitted in {best.DurationInMilliseconds / 1000 - selectionSeconds:F1} s");
            }
        }
        // Under cross-validation the best parameter is refitted on all rows, unless the caller cancelled: then the best
        // trial's model (fitted without its last fold) is returned at once.
        if (best.Ensemble is null && split?.RefitData is not null && runner is SweepablePipelineRunner pipelineRunner && !cancellationToken.IsCancellationRequested)
        {
            (best.Model as IDisposable)?.Dispose();
            best.Model = await Task.Run(() => pipelineRunner.Refit(best.TrialSettings, cancellationToken), CancellationToken.None);
        }
        if (_fittedPrefix is not null && best.Model is not null) best.Model = new TransformerChain<ITransformer>(_fittedPrefix, best.Model);
        TrainingContext.Log(_mlContext, nameof(AutoMLExperiment), $"{_trials.Count} trials in {watch.Elapsed.TotalSeconds:F1} s; best: trial {best.TrialSettings.TrialId}, " +
            $"{_metric?.Name ?? "metric"} {best.Metric:G6}, {best.TrialSettings.Parameter}");
        return best;
    }

    /// <summary>
    /// Fits the members of a selected ensemble as the best trial alone would be (refitted on all rows under cross-validation,
    /// else on the holdout's training rows, the best trial's model reused) and returns the result that stands for the ensemble.
    /// </summary>
    private async Task<TrialResult> FitEnsemble(SweepablePipelineRunner runner, DatasetSplit split, TrialResult best, IReadOnlyList<EnsembleMember> members,
        double metric, IReadOnlyList<double> foldMetrics, int classCount, int trialId, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var models = new List<ITransformer>();
        try
        {
            foreach (var member in members)
            {
                if (split.RefitData is not null)
                    models.Add(await Task.Run(() => runner.Refit(member.Trial.TrialSettings, cancellationToken), CancellationToken.None));
                else if (ReferenceEquals(member.Trial, best) && best.Model is { } model)
                {
                    models.Add(model);
                    best.Model = null;
                }
                else
                    models.Add((await runner.RunAsync(member.Trial.TrialSettings, cancellationToken)).Model!);
            }
        }
        catch
        {
            foreach (var model in models) (model as IDisposable)?.Dispose();
            throw;
        }
        (best.Model as IDisposable)?.Dispose();
        best.Model = null;
        var schema = (split.RefitData ?? split.Folds[0].Train).Schema;
        var label = schema[_ensembleLabel];
        var ensemble = new EnsembleModel(_mlContext, models, [.. members.Select(m => m.Weight)], schema, KeyClassNames.Read(label, classCount));
        // The parameter names each member: {"Trainer":"Ensemble","Ensemble":{"Member01":{"Trial":7,"Weight":0.5,...the trial's parameter}}}.
        var described = members.Select((m, i) => new KeyValuePair<string, object>($"Member{i + 1:D2}", new Parameter(
            m.Trial.TrialSettings.Parameter.Append(new("Trial", m.Trial.TrialSettings.TrialId)).Append(new("Weight", m.Weight)))));
        var parameter = new Parameter([new(BranchSearchSpace.BranchKey, "Ensemble"), new("Ensemble", new Parameter(described))]);
        return new TrialResult
        {
            TrialSettings = new TrialSettings(trialId, parameter),
            Status = TrialStatus.Completed,
            Metric = metric,
            Loss = _metric!.IsMaximize ? -metric : metric,
            FoldMetrics = foldMetrics,
            Model = ensemble,
            Ensemble = members,
            DurationInMilliseconds = watch.Elapsed.TotalMilliseconds,
        };
    }

    // ML.NET wraps an error raised on its cursor threads ("Event we were waiting on was subject to an exception"); the
    // user needs the error itself.
    private static Exception Cause(Exception e)
    {
        while (e.InnerException is { } inner && (e is AggregateException or System.Reflection.TargetInvocationException || e.Message.StartsWith("Event we were waiting on", StringComparison.Ordinal)))
            e = inner;
        return e;
    }

    private SweepablePipelineRunner DefaultRunner(DatasetSplit split)
    {
        if (_pipeline is null) throw new InvalidOperationException("Set a pipeline (SetPipeline) before running.");
        if (_metric is null) throw new InvalidOperationException("Set a metric (SetMetric) before running.");
        int? threads = _parallelTrials == 1 ? null : Math.Max(1, TorchRuntime.EnsureInitialized().DefaultThreads / _parallelTrials);
        return new SweepablePipelineRunner(_mlContext, _pipeline, split, _metric, Seed, threads);
    }

    /// <summary>
    /// Scores the best <paramref name="count"/> completed search trials again on further draws of the split, best first, and
    /// returns the one whose metric averaged over its draws is best (the search's best when no re-evaluation completed).
    /// </summary>
    private async Task<TrialResult> Reevaluate(IResamplingTrialRunner runner, int count, SearchState state, CancellationToken search, CancellationToken caller)
    {
        List<TrialResult> candidates;
        lock (_gate) candidates = [.. _trials.Where(t => t.Status == TrialStatus.Completed).OrderBy(t => t.Loss).ThenBy(t => t.TrialSettings.TrialId).Take(count)];
        TrialResult? chosen = null;
        double chosenLoss = double.PositiveInfinity;
        foreach (var candidate in candidates)
        {
            var (metrics, losses) = (new List<double> { candidate.Metric }, new List<double> { candidate.Loss });
            for (var draw = 1; draw <= _reevaluationDraws && !search.IsCancellationRequested; draw++)
            {
                TrialSettings settings;
                lock (_gate)
                {
                    settings = new TrialSettings(state.Started++, candidate.TrialSettings.Parameter);
                    _monitor?.ReportRunningTrial(settings);
                }
                var drawNumber = draw;
                var result = await RunTrial(token => runner.RunOnResampleAsync(settings, drawNumber, token), settings, search, caller);
                result.ReevaluationOf = candidate.TrialSettings.TrialId;
                (result.Model as IDisposable)?.Dispose();
                result.Model = null;
                lock (_gate)
                {
                    _trials.Add(result);
                    if (result.Status == TrialStatus.Completed) _monitor?.ReportCompletedTrial(result);
                    else _monitor?.ReportFailTrial(settings, result.Exception);
                }
                if (result.Status != TrialStatus.Completed) break;
                metrics.Add(result.Metric);
                losses.Add(result.Loss);
            }
            if (losses.Count != _reevaluationDraws + 1) continue;
            candidate.SelectionMetric = metrics.Average();
            if (losses.Average() < chosenLoss)
            {
                chosen = candidate;
                chosenLoss = losses.Average();
            }
        }
        if (chosen is not null && !ReferenceEquals(chosen, state.Best)) _monitor?.ReportBestTrial(chosen);
        return chosen ?? state.Best!;
    }

    private sealed class SearchState
    {
        public required Stopwatch Watch;
        public required int MaxTrials;
        public required int Reevaluated;
        public int Started;
        public int Failures;
        public bool Exhausted;
        public Exception? FirstFailure;
        public TrialResult? Best;
    }

    private async Task Worker(ITrialRunner runner, ITuner tuner, SearchState state, EnsembleLibrary? library, CancellationToken search, CancellationToken caller)
    {
        while (true)
        {
            TrialSettings settings;
            lock (_gate)
            {
                if (search.IsCancellationRequested || state.Exhausted || state.Started >= state.MaxTrials || state.Failures >= _maxFailures) return;
                if (state.Reevaluated > 0 && double.IsFinite(_budgetSeconds))
                {
                    // Leave the final re-evaluation its time: the measured durations of the trials it would score now.
                    // With a quarter of slack, and the mean trial's duration for the trial that would start now.
                    var completed = _trials.Where(t => t.Status == TrialStatus.Completed && t.ReevaluationOf is null).ToList();
                    var reserve = completed.Count == 0 ? 0 : (1.25 * _reevaluationDraws * completed.OrderBy(t => t.Loss).Take(state.Reevaluated)
                        .Sum(t => t.DurationInMilliseconds) + completed.Average(t => t.DurationInMilliseconds)) / 1000;
                    if (state.Watch.Elapsed.TotalSeconds + reserve >= _budgetSeconds) return;
                }
                var id = state.Started;
                var parameter = tuner.Propose(new TrialSettings(id, Parameter.Empty));
                if (parameter is null)
                {
                    state.Exhausted = true;
                    return;
                }
                settings = new TrialSettings(id, parameter);
                state.Started++;
                _monitor?.ReportRunningTrial(settings);
            }
            var result = await RunTrial(token => runner.RunAsync(settings, token), settings, search, caller);
            lock (_gate)
            {
                if (result.ValidationScores is { } scores && result.Status == TrialStatus.Completed) library?.Add(result, scores);
                result.ValidationScores = null;
                tuner.Update(result);
                _trials.Add(result);
                if (result.Status == TrialStatus.Completed)
                {
                    state.Failures = 0;
                    _monitor?.ReportCompletedTrial(result);
                    if (state.Best is null || result.Loss < state.Best.Loss)
                    {
                        (state.Best?.Model as IDisposable)?.Dispose();
                        if (state.Best is not null) state.Best.Model = null;
                        state.Best = result;
                        _monitor?.ReportBestTrial(result);
                    }
                    else
                    {
                        (result.Model as IDisposable)?.Dispose();
                        result.Model = null;
                    }
                }
                else
                {
                    if (result.Status == TrialStatus.Failed)
                    {
                        state.Failures++;
                        state.FirstFailure ??= result.Exception;
                    }
                    _monitor?.ReportFailTrial(settings, result.Exception);
                }
            }
        }
    }

    private async Task<TrialResult> RunTrial(Func<CancellationToken, Task<TrialResult>> run, TrialSettings settings, CancellationToken search, CancellationToken caller)
    {
        var watch = Stopwatch.StartNew();
        using var trial = CancellationTokenSource.CreateLinkedTokenSource(search);
        if (double.IsFinite(_trialLimitSeconds)) trial.CancelAfter(TimeSpan.FromSeconds(_trialLimitSeconds));
        try
        {
            var result = await run(trial.Token);
            result.DurationInMilliseconds = watch.Elapsed.TotalMilliseconds;
            return result;
        }
        catch (Exception e) when (trial.IsCancellationRequested)
        {
            var why = caller.IsCancellationRequested ? "the search was cancelled"
                : search.IsCancellationRequested ? "the training time ran out"
                : $"the trial ran past its limit of {_trialLimitSeconds.ToString(CultureInfo.InvariantCulture)} s";
            return new TrialResult
            {
                TrialSettings = settings,
                Status = TrialStatus.Cancelled,
                DurationInMilliseconds = watch.Elapsed.TotalMilliseconds,
                Exception = new OperationCanceledException($"Trial {settings.TrialId} was cancelled: {why}.", e),
            };
        }
        catch (Exception e)
        {
            return new TrialResult { TrialSettings = settings, Status = TrialStatus.Failed, DurationInMilliseconds = watch.Elapsed.TotalMilliseconds, Exception = Cause(e) };
        }
    }
}
