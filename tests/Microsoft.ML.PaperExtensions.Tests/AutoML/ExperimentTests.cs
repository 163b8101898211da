using System.Diagnostics;
using Microsoft.ML.PaperExtensions.AutoML;

namespace Microsoft.ML.PaperExtensions.Tests.AutoML;

// Inside a namespace under Microsoft.ML, the name SearchSpace would otherwise mean the namespace Microsoft.ML.SearchSpace.
using SearchSpace = Microsoft.ML.PaperExtensions.AutoML.SearchSpace;

[TestClass]
public sealed class ExperimentTests
{
    private static SearchSpace Line() => new() { ["x"] = new UniformDoubleOption(0, 1, init: 0.9) };

    private static AutoMLExperiment Experiment(ITrialRunner runner, ITuner? tuner = null) =>
        new MLContext(1).PaperAutoML().CreateExperiment().SetTuner(tuner ?? new RandomSearchTuner(Line(), 1)).SetTrialRunner(runner);

    [TestMethod]
    public async Task The_time_budget_ends_the_search_within_one_cancellation_step()
    {
        var runner = new FunctionRunner(p => (double)p["x"], TimeSpan.FromMilliseconds(300));
        var experiment = Experiment(runner).SetTrainingTimeInSeconds(2);
        var watch = Stopwatch.StartNew();
        await experiment.RunAsync();
        watch.Stop();

        // Slack: the trial cut off by the budget stops at its next cancellation check (here at once), plus scheduling. The
        // budget's timer may fire a few milliseconds early (timer granularity: one CI run measured 1.99x s).
        Assert.IsTrue(watch.Elapsed.TotalSeconds is >= 1.95 and < 2.5, $"{watch.Elapsed.TotalSeconds:F3} s");
        Assert.AreEqual(TrialStatus.Cancelled, experiment.Trials[^1].Status);
        StringAssert.Contains(experiment.Trials[^1].Exception!.Message, "training time ran out");
        Assert.IsTrue(experiment.Trials.Count(t => t.Status == TrialStatus.Completed) is >= 5 and <= 6);
    }

    [TestMethod]
    public async Task Cancellation_stops_within_one_trial_and_returns_the_best_so_far()
    {
        // Trials of 300 ms, so that the cancellation at 1 s lands inside the fourth trial. With 200 ms it could land between
        // the fifth and the sixth, cutting off no trial (one CI run: the last trial completed, with no exception).
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var experiment = Experiment(new FunctionRunner(p => (double)p["x"], TimeSpan.FromMilliseconds(300)));
        var watch = Stopwatch.StartNew();
        var best = await experiment.RunAsync(cancellation.Token);

        Assert.IsTrue(watch.Elapsed.TotalSeconds < 1.3, $"{watch.Elapsed.TotalSeconds:F2} s");
        Assert.AreEqual(TrialStatus.Completed, best.Status);
        Assert.AreEqual(experiment.Trials.Where(t => t.Status == TrialStatus.Completed).Min(t => t.Loss), best.Loss);
        StringAssert.Contains(experiment.Trials[^1].Exception!.Message, "cancelled");
    }

    [TestMethod]
    public async Task Cancellation_before_any_trial_completed_throws()
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var experiment = Experiment(new FunctionRunner(p => 0, TimeSpan.FromSeconds(5)));
        await Assert.ThrowsAsync<OperationCanceledException>(() => experiment.RunAsync(cancellation.Token));
    }

    [TestMethod]
    public async Task A_trial_that_throws_is_recorded_and_the_search_goes_on()
    {
        var runner = new FunctionRunner(p => (double)p["x"] < 0.5 ? throw new InvalidOperationException("x below one half") : (double)p["x"]);
        var experiment = Experiment(runner).SetMaxModelToExplore(30);
        var best = await experiment.RunAsync();

        Assert.AreEqual(30, experiment.Trials.Count);
        var failed = experiment.Trials.Where(t => t.Status == TrialStatus.Failed).ToList();
        Assert.IsTrue(failed.Count > 5);
        Assert.IsTrue(failed.All(t => t.Exception!.Message == "x below one half" && double.IsPositiveInfinity(t.Loss)));
        Assert.IsTrue((double)best.TrialSettings.Parameter["x"] >= 0.5);
    }

    [TestMethod]
    public async Task Failures_in_a_row_stop_the_search_with_the_first_error()
    {
        var experiment = Experiment(new FunctionRunner(_ => throw new FormatException("bad column"))).SetMaximumFailedTrials(4);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => experiment.RunAsync());
        Assert.AreEqual(4, experiment.Trials.Count);
        StringAssert.Contains(error.Message, "bad column");
        Assert.IsInstanceOfType<FormatException>(error.InnerException);
    }

    [TestMethod]
    public async Task A_budget_too_small_for_one_trial_says_so_and_returns_no_model()
    {
        var experiment = Experiment(new FunctionRunner(p => 0, TimeSpan.FromSeconds(3))).SetTrainingTimeInSeconds(0.5);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => experiment.RunAsync());
        StringAssert.Contains(error.Message, "No trial completed within the training time of 0.5 s");
    }

    [TestMethod]
    public async Task A_trial_over_its_time_limit_is_cancelled_and_the_search_goes_on()
    {
        var runner = new SlowWhenLarge();
        var experiment = Experiment(runner).SetTrialTimeLimitInSeconds(0.3).SetMaxModelToExplore(12);
        await experiment.RunAsync();
        var cancelled = experiment.Trials.Where(t => t.Status == TrialStatus.Cancelled).ToList();
        Assert.IsTrue(cancelled.Count > 0 && cancelled.All(t => (double)t.TrialSettings.Parameter["x"] > 0.5));
        StringAssert.Contains(cancelled[0].Exception!.Message, "limit of 0.3 s");
        Assert.AreEqual(12, experiment.Trials.Count);
    }

    private sealed class SlowWhenLarge : ITrialRunner
    {
        public async Task<TrialResult> RunAsync(TrialSettings settings, CancellationToken cancellationToken)
        {
            var x = (double)settings.Parameter["x"];
            if (x > 0.5) await Task.Delay(TimeSpan.FromSeconds(10), cancellationToken);
            return new TrialResult { TrialSettings = settings, Status = TrialStatus.Completed, Metric = x, Loss = x };
        }
    }

    [TestMethod]
    public async Task Parallel_trials_overlap_and_each_is_recorded_once()
    {
        var experiment = Experiment(new FunctionRunner(p => (double)p["x"], TimeSpan.FromMilliseconds(400))).SetParallelTrials(4).SetMaxModelToExplore(8);
        var monitor = new RecordingMonitor();
        experiment.SetMonitor(monitor);
        var watch = Stopwatch.StartNew();
        await experiment.RunAsync();

        Assert.IsTrue(watch.Elapsed.TotalSeconds < 2, $"8 trials of 0.4 s, 4 at a time, took {watch.Elapsed.TotalSeconds:F2} s");
        CollectionAssert.AreEquivalent(Enumerable.Range(0, 8).ToArray(), experiment.Trials.Select(t => t.TrialSettings.TrialId).ToArray());
        Assert.AreEqual(8, monitor.Running);
        Assert.AreEqual(8, monitor.Completed);
        Assert.IsTrue(monitor.Best >= 1);
    }

    private sealed class RecordingMonitor : IMonitor
    {
        public int Running, Completed, Best;

        public void ReportRunningTrial(TrialSettings settings) => Running++;

        public void ReportCompletedTrial(TrialResult result) => Completed++;

        public void ReportBestTrial(TrialResult result) => Best++;

        public void ReportFailTrial(TrialSettings settings, Exception? exception)
        {
        }
    }

    [TestMethod]
    public async Task A_pipeline_without_trainers_and_a_space_without_valid_points_are_clear_errors()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 10).Select(i => new Row { Label = i % 2, Features = [i] }));
        var empty = await Assert.ThrowsAsync<InvalidOperationException>(() => ml.PaperAutoML().CreateExperiment().SetPipeline(new SweepablePipeline())
            .SetDataset(data, fold: 2).SetMetric(AutoMLMetric.For(AutoMLTask.Regression)).RunAsync());
        StringAssert.Contains(empty.Message, "no trainer");

        // Every point of this space makes an estimator that cannot be built: the search stops with the reason.
        var invalid = new SweepableEstimator("Broken", new SearchSpace { ["Rate"] = new UniformDoubleOption(-2, -1) },
            (context, p) => context.Regression.Trainers.Sdca(new Microsoft.ML.Trainers.SdcaRegressionTrainer.Options { L2Regularization = (float)(double)p["Rate"] }));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ml.PaperAutoML().CreateExperiment().SetPipeline(invalid)
            .SetDataset(data, fold: 2).SetMetric(AutoMLMetric.For(AutoMLTask.Regression)).SetMaximumFailedTrials(3).RunAsync());
        StringAssert.Contains(error.Message, "3 trial(s) failed in a row");
    }

    private sealed class Row
    {
        public float Label { get; set; }

        [Microsoft.ML.Data.VectorType(1)]
        public float[] Features { get; set; } = [];
    }

    [TestMethod]
    public async Task What_the_search_needs_is_named_when_missing()
    {
        var ml = new MLContext(1);
        var noPipeline = await Assert.ThrowsAsync<InvalidOperationException>(() => ml.PaperAutoML().CreateExperiment().RunAsync());
        StringAssert.Contains(noPipeline.Message, "SetDataset");
        var noMetric = await Assert.ThrowsAsync<InvalidOperationException>(() => ml.PaperAutoML().CreateExperiment()
            .SetPipeline(SweepableTrainers.Presto()).SetDataset(ml.Data.LoadFromEnumerable(new[] { new { A = 1f }, new { A = 2f } }), fold: 2).RunAsync());
        StringAssert.Contains(noMetric.Message, "SetMetric");
    }
}
