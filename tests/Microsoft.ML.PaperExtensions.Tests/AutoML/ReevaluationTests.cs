using System.Diagnostics;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.AutoML;

namespace Microsoft.ML.PaperExtensions.Tests.AutoML;

// Inside a namespace under Microsoft.ML, the name SearchSpace would otherwise mean the namespace Microsoft.ML.SearchSpace.
using SearchSpace = Microsoft.ML.PaperExtensions.AutoML.SearchSpace;

/// <summary>A resampling runner whose loss depends on the parameter and the draw of the split (0 = the search's own).</summary>
internal sealed class DrawFunctionRunner(Func<Parameter, int, double> loss, TimeSpan? duration = null, bool canResample = true) : IResamplingTrialRunner
{
    public bool CanResample => canResample;

    public List<(int TrialId, int Draw)> Runs { get; } = [];

    public Task<TrialResult> RunAsync(TrialSettings settings, CancellationToken cancellationToken) => Run(settings, 0, cancellationToken);

    public Task<TrialResult> RunOnResampleAsync(TrialSettings settings, int resample, CancellationToken cancellationToken) => Run(settings, resample, cancellationToken);

    private async Task<TrialResult> Run(TrialSettings settings, int draw, CancellationToken cancellationToken)
    {
        if (duration is { } wait) await Task.Delay(wait, cancellationToken);
        lock (Runs) Runs.Add((settings.TrialId, draw));
        var value = loss(settings.Parameter, draw);
        return new TrialResult { TrialSettings = settings, Status = TrialStatus.Completed, Metric = value, Loss = value, FoldMetrics = [value] };
    }
}

[TestClass]
public sealed class ReevaluationTests
{
    private static SearchSpace Line() => new() { ["x"] = new UniformDoubleOption(0, 1, init: 0.5) };

    private static AutoMLExperiment Experiment(ITrialRunner runner) =>
        new MLContext(1).PaperAutoML().CreateExperiment().SetTuner(new RandomSearchTuner(Line(), 1)).SetTrialRunner(runner);

    // The loss is x on every draw, except that points above 0.8 are lucky on the search's draw (loss 0) and poor on others (1).
    private static double Lucky(Parameter p, int draw)
    {
        var x = (double)p["x"];
        return x > 0.8 ? (draw == 0 ? 0 : 1) : x;
    }

    [TestMethod]
    public async Task The_best_trials_are_scored_again_and_a_lead_that_was_luck_does_not_win()
    {
        var plain = await Experiment(new DrawFunctionRunner(Lucky)).SetMaxModelToExplore(30).RunAsync();
        Assert.IsTrue((double)plain.TrialSettings.Parameter["x"] > 0.8, "without re-evaluation the lucky point wins");
        Assert.IsTrue(double.IsNaN(plain.SelectionMetric));

        var runner = new DrawFunctionRunner(Lucky);
        var experiment = Experiment(runner).SetMaxModelToExplore(30).SetFinalReevaluation(5);
        var best = await experiment.RunAsync();

        // 25 search trials and 5 re-evaluations: the same trial count.
        Assert.AreEqual(30, experiment.Trials.Count);
        var search = experiment.Trials.Where(t => t.ReevaluationOf is null).ToList();
        var again = experiment.Trials.Where(t => t.ReevaluationOf is not null).ToList();
        Assert.AreEqual(25, search.Count);
        CollectionAssert.AreEquivalent(search.OrderBy(t => t.Loss).ThenBy(t => t.TrialSettings.TrialId).Take(5).Select(t => t.TrialSettings.TrialId).ToArray(),
            again.Select(t => t.ReevaluationOf!.Value).ToArray(), "the five best search trials, each once");
        CollectionAssert.AreEqual(Enumerable.Range(25, 5).ToArray(), again.Select(t => t.TrialSettings.TrialId).ToArray(), "numbered after the search, best first");
        Assert.IsTrue(again.All(t => runner.Runs.Contains((t.TrialSettings.TrialId, 1))), "on draw 1 of the split");

        var x = (double)best.TrialSettings.Parameter["x"];
        Assert.IsTrue(x <= 0.8, $"x = {x}: a point whose score holds on the second draw");
        Assert.IsNull(best.ReevaluationOf, "the returned trial is the search trial");
        Assert.AreEqual(x, best.SelectionMetric, 1e-12, "the mean over both draws (x on each)");
        var reevaluated = search.Where(t => !double.IsNaN(t.SelectionMetric)).ToList();
        Assert.AreEqual(5, reevaluated.Count);
        Assert.AreEqual(reevaluated.Min(t => t.SelectionMetric), best.SelectionMetric);
        // Every lucky point among the five scored (0 + 1) / 2 and lost to it.
        Assert.IsTrue(reevaluated.Where(t => (double)t.TrialSettings.Parameter["x"] > 0.8).All(t => t.SelectionMetric == 0.5));
    }

    [TestMethod]
    public async Task Several_draws_are_averaged_and_small_trial_counts_cut_or_skip_the_reevaluation()
    {
        // x on draws 0 and 2, 1 - x on draw 1: with two draws the mean is (2x + 1 - x) / 3 = (1 + x) / 3, smallest at the smallest x.
        static double Alternating(Parameter p, int draw) => draw == 1 ? 1 - (double)p["x"] : (double)p["x"];
        var experiment = Experiment(new DrawFunctionRunner(Alternating)).SetMaxModelToExplore(30).SetFinalReevaluation(3, draws: 2);
        var best = await experiment.RunAsync();
        Assert.AreEqual(6, experiment.Trials.Count(t => t.ReevaluationOf is not null));
        Assert.AreEqual(24, experiment.Trials.Count(t => t.ReevaluationOf is null));
        var x = (double)best.TrialSettings.Parameter["x"];
        Assert.AreEqual((1 + x) / 3, best.SelectionMetric, 1e-12);

        // 9 trials: at most a third (3) go to re-evaluations; 5 trials: one candidate would be no choice, so none.
        var nine = Experiment(new DrawFunctionRunner(Lucky)).SetMaxModelToExplore(9).SetFinalReevaluation(5);
        await nine.RunAsync();
        Assert.AreEqual(3, nine.Trials.Count(t => t.ReevaluationOf is not null));
        Assert.AreEqual(9, nine.Trials.Count);
        var five = Experiment(new DrawFunctionRunner(Lucky)).SetMaxModelToExplore(5).SetFinalReevaluation(5);
        await five.RunAsync();
        Assert.AreEqual(5, five.Trials.Count(t => t.ReevaluationOf is null));

        // A runner that cannot draw its split again (a given pair) spends the whole budget on the search.
        var fixedPair = Experiment(new DrawFunctionRunner(Lucky, canResample: false)).SetMaxModelToExplore(30).SetFinalReevaluation(5);
        await fixedPair.RunAsync();
        Assert.AreEqual(30, fixedPair.Trials.Count(t => t.ReevaluationOf is null));
    }

    [TestMethod]
    public async Task Under_a_time_budget_the_search_stops_early_enough_for_the_reevaluations()
    {
        var runner = new DrawFunctionRunner(Lucky, TimeSpan.FromMilliseconds(200));
        var experiment = Experiment(runner).SetTrainingTimeInSeconds(3).SetFinalReevaluation(2, draws: 2);
        var watch = Stopwatch.StartNew();
        await experiment.RunAsync();
        watch.Stop();

        // Without the reserve the search would run until the budget and cut every re-evaluation off.
        var again = experiment.Trials.Where(t => t.ReevaluationOf is not null).ToList();
        Assert.AreEqual(4, again.Count);
        Assert.IsTrue(again.All(t => t.Status == TrialStatus.Completed), string.Join("; ", again.Select(t => t.Exception?.Message)));
        Assert.IsTrue(watch.Elapsed.TotalSeconds < 3.5, $"{watch.Elapsed.TotalSeconds:F2} s");
        Assert.IsTrue(experiment.Trials.Count(t => t.ReevaluationOf is null) >= 6, "most of the budget still went to the search");
    }

    [TestMethod]
    public async Task A_reevaluation_cut_off_by_the_budget_leaves_its_trial_out_of_the_choice()
    {
        // Draw 0 takes no time; a re-evaluation takes 10 s, so the budget (1 s after the search) cuts the first one off.
        var slowAgain = new SlowResample();
        var experiment = Experiment(slowAgain).SetMaxModelToExplore(12).SetTrainingTimeInSeconds(1).SetFinalReevaluation(3);
        var watch = Stopwatch.StartNew();
        var best = await experiment.RunAsync();
        Assert.IsTrue(watch.Elapsed.TotalSeconds < 1.5, $"{watch.Elapsed.TotalSeconds:F2} s");

        var search = experiment.Trials.Where(t => t.ReevaluationOf is null).ToList();
        Assert.AreEqual(9, search.Count);
        Assert.AreEqual(search.Min(t => t.Loss), best.Loss, "no re-evaluation completed: the search's best");
        Assert.IsTrue(double.IsNaN(best.SelectionMetric));
        var cut = experiment.Trials.Single(t => t.ReevaluationOf is not null);
        Assert.AreEqual(TrialStatus.Cancelled, cut.Status);
        Assert.AreEqual(best.TrialSettings.TrialId, cut.ReevaluationOf, "the best trial is re-evaluated first");
    }

    private sealed class SlowResample : IResamplingTrialRunner
    {
        public bool CanResample => true;

        public Task<TrialResult> RunAsync(TrialSettings settings, CancellationToken cancellationToken)
        {
            var x = (double)settings.Parameter["x"];
            return Task.FromResult(new TrialResult { TrialSettings = settings, Status = TrialStatus.Completed, Metric = x, Loss = x });
        }

        public async Task<TrialResult> RunOnResampleAsync(TrialSettings settings, int resample, CancellationToken cancellationToken)
        {
            await Task.Delay(TimeSpan.FromSeconds(10), cancellationToken);
            return await RunAsync(settings, cancellationToken);
        }
    }

    [TestMethod]
    public void A_split_drawn_again_keeps_its_kind_and_its_unlabelled_rows_in_training_but_assigns_rows_anew()
    {
        var ml = new MLContext(1);
        var rows = Enumerable.Range(0, 60).Select(i => new LabelRow { Label = i % 3 == 0 ? float.NaN : i % 2, X = i }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);

        var split = DatasetSplit.CrossValidation(data, 4, seed: 3, unlabeledStayInTraining: "Label");
        Assert.IsTrue(split.CanResample);
        Assert.AreEqual(40, split.HeldOutRowCount, "the labelled rows");
        var again = split.Resample(4);
        Assert.AreEqual(4, again.Folds.Count);
        Assert.AreSame(split.RefitData, again.RefitData);
        var heldOut = again.Folds.SelectMany(f => f.Validation.GetColumn<float>("X")).ToArray();
        CollectionAssert.AreEquivalent(rows.Where(r => !float.IsNaN(r.Label)).Select(r => r.X).ToArray(), heldOut, "each labelled row held out once, no unlabelled row");
        CollectionAssert.AreNotEqual(split.Folds[0].Validation.GetColumn<float>("X").ToArray(), again.Folds[0].Validation.GetColumn<float>("X").ToArray());
        CollectionAssert.AreEqual(DatasetSplit.CrossValidation(data, 4, seed: 4, unlabeledStayInTraining: "Label").Folds[0].Validation.GetColumn<float>("X").ToArray(),
            again.Folds[0].Validation.GetColumn<float>("X").ToArray(), "the same as drawing with that seed");

        var holdout = DatasetSplit.Random(data, 0.25, seed: 1);
        var holdoutAgain = holdout.Resample(2);
        Assert.AreEqual(15, holdoutAgain.Folds[0].Validation.GetColumn<float>("X").Count());
        Assert.IsNull(holdoutAgain.RefitData);
        CollectionAssert.AreNotEqual(holdout.Folds[0].Validation.GetColumn<float>("X").ToArray(), holdoutAgain.Folds[0].Validation.GetColumn<float>("X").ToArray());

        var pair = DatasetSplit.Holdout(data, data);
        Assert.IsFalse(pair.CanResample);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOperationException>(() => pair.Resample(1)).Message, "cannot be drawn again");
    }

    [TestMethod]
    public async Task A_pipeline_search_scores_its_best_trials_on_a_second_split_and_refits_the_one_chosen()
    {
        var ml = new MLContext(1);
        var random = new Random(2);
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 80).Select(_ =>
        {
            float x0 = (float)random.NextDouble(), x1 = (float)random.NextDouble();
            return new SignalRow { Features = [x0, x1], Label = x0 - x1 + 0.3f * (float)(random.NextDouble() - 0.5) };
        }).ToArray());
        var space = new SearchSpace { ["L2"] = new UniformDoubleOption(1e-4, 10, logBase: true, init: 1) };
        var trainer = new SweepableEstimator("Sdca", space, (context, p) => context.Regression.Trainers.Sdca(new Microsoft.ML.Trainers.SdcaRegressionTrainer.Options
        {
            L2Regularization = (float)(double)p["L2"], MaximumNumberOfIterations = 20, NumberOfThreads = 1,
        }));
        var experiment = ml.PaperAutoML().CreateExperiment().SetPipeline(trainer).SetDataset(data, fold: 3).SetMetric(AutoMLMetric.For(AutoMLTask.Regression, "rmse"))
            .SetRandomSearchTuner().SetSeed(5).SetMaxModelToExplore(9).SetFinalReevaluation(3);
        var best = await experiment.RunAsync();

        var again = experiment.Trials.Where(t => t.ReevaluationOf is not null).ToList();
        Assert.AreEqual(3, again.Count);
        Assert.IsTrue(again.All(t => t.Status == TrialStatus.Completed && t.FoldMetrics.Count == 3 && t.Model is null));
        foreach (var trial in again)
        {
            var original = experiment.Trials.Single(t => t.TrialSettings.TrialId == trial.ReevaluationOf);
            Assert.AreEqual(original.TrialSettings.Parameter.ToString(), trial.TrialSettings.Parameter.ToString());
            Assert.AreNotEqual(original.FoldMetrics[0], trial.FoldMetrics[0], "other rows in the folds");
            Assert.AreEqual((original.Metric + trial.Metric) / 2, original.SelectionMetric, 1e-12);
        }
        Assert.AreEqual(again.Select(t => experiment.Trials.Single(s => s.TrialSettings.TrialId == t.ReevaluationOf).SelectionMetric).Min(), best.SelectionMetric,
            "rmse: the smallest mean over both draws");

        // The model is the chosen parameter refitted on all rows: the same predictions as fitting it directly.
        // (The runner's context of trial i has the seed: experiment seed + i.)
        var direct = new SweepablePipeline(trainer).Build(new MLContext(5 + best.TrialSettings.TrialId), best.TrialSettings.Parameter).Fit(data);
        var expected = direct.Transform(data).GetColumn<float>("Score").ToArray();
        var actual = best.Model!.Transform(data).GetColumn<float>("Score").ToArray();
        Assert.AreEqual(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) Assert.AreEqual(expected[i], actual[i], 1e-3f);

        // A given training and validation pair cannot be drawn again: no re-evaluation.
        var pair = ml.PaperAutoML().CreateExperiment().SetPipeline(trainer).SetDataset(data, data).SetMetric(AutoMLMetric.For(AutoMLTask.Regression, "rmse"))
            .SetSeed(5).SetMaxModelToExplore(6).SetFinalReevaluation(3);
        await pair.RunAsync();
        Assert.AreEqual(6, pair.Trials.Count(t => t.ReevaluationOf is null));
    }

    private sealed class SignalRow
    {
        [VectorType(2)]
        public float[] Features { get; set; } = [];

        public float Label { get; set; }
    }
}
