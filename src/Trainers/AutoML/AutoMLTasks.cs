using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.AutoML;
using Microsoft.ML.Transforms;

namespace Microsoft.ML.PaperExtensions;

/// <summary>What a task experiment searches and how it scores: the columns, the metric, the validation scheme.</summary>
public sealed class AutoMLTaskOptions
{
    /// <summary>The task; it chooses the trainers and the metrics.</summary>
    public AutoMLTask Task { get; set; } = AutoMLTask.Multiclass;

    /// <summary>
    /// The label (all tasks but survival). A numeric or text label of an ordinal, semi-supervised or multiclass task becomes a
    /// key ordered by value; the returned model starts with that mapping, so it scores data in the original layout (with the label column, as ML.NET's AutoML pipelines do).
    /// </summary>
    public string LabelColumnName { get; set; } = ColumnNames.Label;

    /// <summary>The feature vector (all tasks but survival).</summary>
    public string FeatureColumnName { get; set; } = ColumnNames.Features;

    /// <summary>Survival: observed time.</summary>
    public string TimeColumnName { get; set; } = "Time";

    /// <summary>Survival: event indicator.</summary>
    public string EventColumnName { get; set; } = "Event";

    /// <summary>Survival: the event column's value that means an event; null for 0/1 or Boolean.</summary>
    public double? EventValue { get; set; }

    /// <summary>Survival: the candidate covariates; where each goes (PH, AFT, shape or nowhere) is part of the search.</summary>
    public string[] SurvivalFeatureColumnNames { get; set; } = [];

    /// <summary>The metric's name (see <see cref="AutoMLMetric.NamesFor"/>); null for the task's default.</summary>
    public string? MetricName { get; set; }

    /// <summary>Folds of the cross-validation that scores each trial; 0 holds out a random 20 % instead.</summary>
    public int NumberOfFolds { get; set; } = 5;

    /// <summary>Seed of the split, the tuner and the trials; null draws one from the MLContext.</summary>
    public int? Seed { get; set; }
}

/// <summary>The best trial of a one-call search, with every trial and the metric.</summary>
/// <param name="BestTrial">The best completed trial; its <see cref="TrialResult.Model"/> is the fitted pipeline.</param>
/// <param name="Trials">Every trial, in the order they ended.</param>
/// <param name="Metric">The metric the trials were compared by.</param>
public sealed record AutoMLRun(TrialResult BestTrial, IReadOnlyList<TrialResult> Trials, AutoMLMetric Metric);

/// <summary>Task experiments on <c>mlContext.PaperAutoML()</c>: the trainers of each task, ours and ML.NET's, side by side.</summary>
public static class AutoMLTaskExtensions
{
    // Below this many rows that can be held out, a task experiment re-evaluates its best trials (see CreateExperiment).
    private const int SmallDataRows = 1000;

    /// <summary>The fraction of SMAC's trials that are uniform random points when the trials feed an ensemble.</summary>
    private const double EnsembleRandomFraction = 0.5;

    /// <summary>
    /// The trainers searched for a task: ordinal PRESTO, proportional odds, and ML.NET's L-BFGS and SDCA maximum entropy and
    /// LightGBM; survival the flexible parametric model; semi-supervised label spreading, WAD (with its baselines as a choice)
    /// and ML.NET's L-BFGS maximum entropy on the labelled rows; multiclass, binary and regression ML.NET's linear trainers, FastTree and LightGBM.
    /// </summary>
    /// <exception cref="ArgumentException">Text classification: its pipeline needs a model, see <see cref="SweepableTrainers.TextFineTuning"/>.</exception>
    public static SweepablePipeline CreatePipeline(this PaperAutoMLCatalog catalog, AutoMLTaskOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        string label = options.LabelColumnName, features = options.FeatureColumnName;
        return options.Task switch
        {
            AutoMLTask.Ordinal => new SweepablePipeline(SweepableTrainers.Presto(label, features), SweepableTrainers.ProportionalOdds(label, features),
                SweepableTrainers.LbfgsMaximumEntropy(label, features), SweepableTrainers.SdcaMaximumEntropy(label, features), SweepableTrainers.LightGbmMulticlass(label, features)),
            AutoMLTask.Survival => new SweepablePipeline(SweepableTrainers.FlexibleSurvival(options.TimeColumnName, options.EventColumnName, options.SurvivalFeatureColumnNames, options.EventValue)),
            AutoMLTask.SemiSupervised => new SweepablePipeline(SweepableTrainers.LabelSpreading(label, features), SweepableTrainers.Wad(label, features),
                SweepableTrainers.LbfgsMaximumEntropy(label, features)),
            AutoMLTask.Multiclass => new SweepablePipeline(SweepableTrainers.LbfgsMaximumEntropy(label, features), SweepableTrainers.SdcaMaximumEntropy(label, features),
                SweepableTrainers.FastTreeOneVersusAll(label, features), SweepableTrainers.LightGbmMulticlass(label, features)),
            AutoMLTask.Binary => new SweepablePipeline(SweepableTrainers.LbfgsLogisticRegression(label, features), SweepableTrainers.SdcaLogisticRegression(label, features),
                SweepableTrainers.FastTreeBinary(label, features), SweepableTrainers.LightGbmBinary(label, features)),
            AutoMLTask.Regression => new SweepablePipeline(SweepableTrainers.SdcaRegression(label, features), SweepableTrainers.FastTreeRegression(label, features),
                SweepableTrainers.LightGbmRegression(label, features)),
            AutoMLTask.TextClassification => throw new ArgumentException(
                "A text-classification pipeline needs the pretrained model: use SweepableTrainers.TextFineTuning(options) with CreateExperiment().SetPipeline.", nameof(options)),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Task, $"Unknown task {options.Task}."),
        };
    }

    /// <summary>
    /// An experiment for a task on <paramref name="data"/>: the task's pipeline, its metric, its tuner, and K-fold
    /// cross-validation (or a 20 % holdout); semi-supervised rows without a label always stay in training. Set the time budget,
    /// another tuner or a monitor on the result, then <c>RunAsync</c>.
    /// </summary>
    /// <remarks>
    /// The tuner, chosen by the AutoML benchmark (docs/benchmarks.md, "AutoML"): survival uses <see cref="SmacTuner"/>, whose
    /// space is all choices (each covariate's placement, the baseline) and whose good points lie far from the defaults (on
    /// lung.csv it beat the cost-frugal tuner on 7 of 10 seeds and found the better cross-validated C on veteran.csv too).
    /// Every other task keeps <see cref="CostFrugalTuner"/>: its spaces are numeric ranges that start from good, cheap
    /// defaults, and on soup.csv (ordinal, one model returned) the two tied in quality while the cost-frugal search took a
    /// third of the time; but ordinal data that get the ensemble (below) use SMAC, whose trials differ more.
    /// <para>On data with fewer than 1,000 rows that can be held out (the labelled rows of a semi-supervised task), the five
    /// best trials are scored again on another draw of the split before one is returned
    /// (<see cref="AutoMLExperiment.SetFinalReevaluation"/>; the re-evaluations count against the trial count and the time);
    /// call <c>SetFinalReevaluation(0)</c> on the result to turn that off, or with other numbers to change it.</para>
    /// <para>Ordinal data with 1,000 rows or more that can be held out get ensemble selection instead
    /// (<see cref="AutoMLExperiment.SetEnsemble"/>), searched by <see cref="SmacTuner"/> with half of its trials uniform random
    /// points (<c>SetSmacTuner(0.5)</c>; trials that differ give the average more to work with): the result may be a weighted average
    /// of several trials' class probabilities, when that scores better on the validation rows than the best trial alone.
    /// <c>SetEnsemble(0)</c> turns it off (<c>SetCostFrugalTuner()</c> then gives the search of other tasks); calling
    /// <c>SetEnsemble</c> on smaller data turns it on there.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">A column is missing, the data have no rows, the metric does not fit the task, or the folds do not fit the data.</exception>
    public static AutoMLExperiment CreateExperiment(this PaperAutoMLCatalog catalog, IDataView data, AutoMLTaskOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        var metric = AutoMLMetric.For(options.Task, options.MetricName, options.LabelColumnName, options.TimeColumnName, options.EventColumnName, options.EventValue);
        var pipeline = catalog.CreatePipeline(options);
        var columns = options.Task == AutoMLTask.Survival
            ? [options.TimeColumnName, options.EventColumnName, .. options.SurvivalFeatureColumnNames]
            : new[] { options.LabelColumnName, options.FeatureColumnName };
        foreach (var column in columns.Where(c => data.Schema.GetColumnOrNull(c) is null))
            throw new ArgumentException($"Column '{column}' was not found in the data (columns: {string.Join(", ", data.Schema.Where(c => !c.IsHidden).Select(c => c.Name))}).", nameof(data));
        if (options.NumberOfFolds is 1 or < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.NumberOfFolds, $"NumberOfFolds must be 0 (a 20 % holdout) or at least 2, but is {options.NumberOfFolds}.");

        using (var cursor = data.GetRowCursor([]))
        {
            if (!cursor.MoveNext()) throw new ArgumentException("The data have no rows; a search needs rows to fit and score.", nameof(data));
        }
        var ml = catalog.Context;
        ITransformer? toKey = null;
        if (options.Task is AutoMLTask.Ordinal or AutoMLTask.SemiSupervised or AutoMLTask.Multiclass && data.Schema[options.LabelColumnName].Type is not KeyDataViewType)
        {
            // ML.NET's multiclass trainers need a key label; ordered by value, the classes keep their order (1 < 2 < ...). It
            // is fitted on all rows, so every fold knows every class, and the returned model starts with it.
            toKey = ml.Transforms.Conversion.MapValueToKey(options.LabelColumnName, keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(data);
            data = toKey.Transform(data);
        }
        data = ml.Data.Cache(data);
        var seed = options.Seed ?? ((Microsoft.ML.Runtime.IHostEnvironment)ml).Register("AutoML").Rand.Next();
        var stayInTraining = options.Task == AutoMLTask.SemiSupervised ? options.LabelColumnName : null;
        var split = options.NumberOfFolds == 0
            ? DatasetSplit.Random(data, 0.2, seed, stayInTraining)
            : DatasetSplit.CrossValidation(data, options.NumberOfFolds, seed, stayInTraining);
        var experiment = catalog.CreateExperiment().SetPipeline(pipeline).SetMetric(metric).SetDataset(split).SetSeed(seed);
        if (options.Task == AutoMLTask.Survival) experiment.SetSmacTuner();
        // Small data: the best trial's validation score is noisy and the best of many is mostly the luckiest; the five best are
        // scored again on another draw of the split and chosen by the mean (see AutoMLExperiment.SetFinalReevaluation).
        if (split.HeldOutRowCount < SmallDataRows) experiment.SetFinalReevaluation(5, 1);
        // Ordinal with 1,000 rows or more that can be held out: PRESTO, L-BFGS and LightGBM score alike on soup.csv and no single
        // one chosen by cross-validation beats PRESTO's defaults, while an average of several does. Below that the average is
        // chosen on too few rows: on 309 diabetes rows it lost to the re-evaluated single trial on 4 of 5 splits
        // (docs/benchmarks.md, "Ensemble selection in the engine").
        // With the ensemble, SMAC: its global search gives the ensemble trials of every trainer to average, where CFO's local
        // search makes hundreds of near copies of one (on validation seeds 11-20 at 60 s, better on 8 of 10). Half of its trials
        // are uniform random points: the average gains from trials that differ (same seeds, better than the model's search alone
        // on 7 of 10 and than random search on 9 of 10). A single returned model gains from the model's search instead, so
        // survival keeps SMAC without them (on lung, seeds 1-40, half random lost the median C by 0.006).
        if (options.Task == AutoMLTask.Ordinal && split.HeldOutRowCount >= SmallDataRows) experiment.SetEnsemble(20, options.LabelColumnName).SetSmacTuner(EnsembleRandomFraction);
        return toKey is null ? experiment : experiment.SetFittedPrefix(toKey);
    }

    /// <summary>One call: searches a task's trainers on <paramref name="data"/> for <paramref name="trainingTimeInSeconds"/> and returns the best.</summary>
    /// <exception cref="InvalidOperationException">No trial completed within the time (no model is returned).</exception>
    public static async Task<AutoMLRun> RunAsync(this PaperAutoMLCatalog catalog, IDataView data, AutoMLTaskOptions options, double trainingTimeInSeconds,
        CancellationToken cancellationToken = default)
    {
        var experiment = catalog.CreateExperiment(data, options).SetTrainingTimeInSeconds(trainingTimeInSeconds);
        var best = await experiment.RunAsync(cancellationToken);
        return new AutoMLRun(best, experiment.Trials, experiment.Metric!);
    }

    /// <summary>One call for ordinal data: PRESTO and the others searched by the multi-class Brier score (or <paramref name="metricName"/>).</summary>
    public static Task<AutoMLRun> OrdinalAsync(this PaperAutoMLCatalog catalog, IDataView data, string labelColumnName = ColumnNames.Label,
        string featureColumnName = ColumnNames.Features, double trainingTimeInSeconds = 60, string? metricName = null, CancellationToken cancellationToken = default) =>
        catalog.RunAsync(data, new AutoMLTaskOptions { Task = AutoMLTask.Ordinal, LabelColumnName = labelColumnName, FeatureColumnName = featureColumnName, MetricName = metricName },
            trainingTimeInSeconds, cancellationToken);

    /// <summary>One call for survival data: covariate placement and baseline searched by Harrell's C (or <paramref name="metricName"/>).</summary>
    public static Task<AutoMLRun> SurvivalAsync(this PaperAutoMLCatalog catalog, IDataView data, string timeColumnName, string eventColumnName,
        string[] candidateFeatureColumnNames, double trainingTimeInSeconds = 60, string? metricName = null, CancellationToken cancellationToken = default) =>
        catalog.RunAsync(data, new AutoMLTaskOptions
        {
            Task = AutoMLTask.Survival, TimeColumnName = timeColumnName, EventColumnName = eventColumnName,
            SurvivalFeatureColumnNames = candidateFeatureColumnNames, MetricName = metricName,
        }, trainingTimeInSeconds, cancellationToken);

    /// <summary>One call for semi-supervised data (missing labels = unlabelled rows), scored on held-out labelled rows by accuracy (or <paramref name="metricName"/>).</summary>
    public static Task<AutoMLRun> SemiSupervisedAsync(this PaperAutoMLCatalog catalog, IDataView data, string labelColumnName = ColumnNames.Label,
        string featureColumnName = ColumnNames.Features, double trainingTimeInSeconds = 60, string? metricName = null, CancellationToken cancellationToken = default) =>
        catalog.RunAsync(data, new AutoMLTaskOptions { Task = AutoMLTask.SemiSupervised, LabelColumnName = labelColumnName, FeatureColumnName = featureColumnName, MetricName = metricName },
            trainingTimeInSeconds, cancellationToken);
}
