using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.AutoML;
using Microsoft.ML.PaperExtensions.FineTuning;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.SemiSupervised;
using Microsoft.ML.PaperExtensions.TestSupport;
using Microsoft.ML.PaperExtensions.Tests.FineTuning;
using Microsoft.ML.PaperExtensions.Tests.Text;

namespace Microsoft.ML.PaperExtensions.Tests.AutoML;

[TestClass]
public sealed class TaskExperimentTests
{
    private static string DataFile(string name) => Path.Combine(AppContext.BaseDirectory, "Data", name);

    [TestMethod]
    public async Task An_ordinal_search_tries_each_trainer_and_its_best_pipeline_saves_and_loads()
    {
        var ml = new MLContext(1);
        var soup = SoupFeatures.Load(ml, DataFile("soup.csv"));
        var options = new AutoMLTaskOptions { Task = AutoMLTask.Ordinal, NumberOfFolds = 3, Seed = 4 };
        // The single best trial here; EnsembleTests covers the average the ordinal task returns when it scores better.
        var experiment = ml.PaperAutoML().CreateExperiment(soup, options).SetMaxModelToExplore(7).SetEnsemble(0);
        var best = await experiment.RunAsync();

        var trainers = experiment.Trials.Select(t => t.TrainerName).ToList();
        CollectionAssert.AreEqual(new[] { "Presto", "ProportionalOdds", "LbfgsMaximumEntropy", "SdcaMaximumEntropy", "LightGbm" }, trainers.Take(5).ToArray(),
            "each trainer once, in pipeline order, before the search chooses");
        Assert.IsTrue(experiment.Trials.All(t => t.Status == TrialStatus.Completed), string.Join("; ", experiment.Trials.Select(t => t.Exception?.Message)));
        Assert.AreEqual(experiment.Trials.Min(t => t.Metric), best.Metric, "brier: lower is better");
        Assert.AreEqual(3, best.FoldMetrics.Count);
        Assert.AreEqual(best.FoldMetrics.Average(), best.Metric, 1e-12);
        // A multi-class Brier score of six classes below the uniform guess's 5/6.
        Assert.IsTrue(best.Metric is > 0.3 and < 5.0 / 6, $"{best.Metric}");

        // The best pipeline (refitted on all rows) is an ordinary model: save, load, same probabilities.
        (SavedModel.RoundTrip(ml, best.Model!, soup) as IDisposable)?.Dispose();
        (best.Model as IDisposable)?.Dispose();
    }

    [TestMethod]
    public async Task Parallel_trials_get_a_share_of_the_threads_and_the_results_of_serial_trials()
    {
        async Task<Dictionary<int, double>> Run(int parallel)
        {
            var ml = new MLContext(1);
            var soup = SoupFeatures.Load(ml, DataFile("soup.csv"));
            var experiment = ml.PaperAutoML().CreateExperiment(soup, new AutoMLTaskOptions { Task = AutoMLTask.Ordinal, NumberOfFolds = 2, Seed = 3 })
                .SetPipeline(new SweepablePipeline(SweepableTrainers.ProportionalOdds(), SweepableTrainers.LbfgsMaximumEntropy()))
                .SetRandomSearchTuner().SetMaxModelToExplore(5).SetParallelTrials(parallel);
            ((await experiment.RunAsync()).Model as IDisposable)?.Dispose();
            return experiment.Trials.ToDictionary(t => t.TrialSettings.TrialId, t => t.Metric);
        }
        var serial = await Run(1);
        var parallel = await Run(3);
        CollectionAssert.AreEquivalent(serial.Keys.ToArray(), parallel.Keys.ToArray());
        // Each trial has its own context, seed and thread share: the same metric, up to where L-BFGS stops with one thread
        // instead of two (differences of 2e-5 seen); the proportional-odds trials run alone (SweepableEstimator.RunsExclusively).
        foreach (var (id, metric) in serial) Assert.AreEqual(metric, parallel[id], 1e-4, $"trial {id}");
    }

    [TestMethod]
    public async Task A_cancelled_cross_validated_search_returns_the_best_trial_without_a_refit()
    {
        var ml = new MLContext(1);
        var soup = SoupFeatures.Load(ml, DataFile("soup.csv"));
        var experiment = ml.PaperAutoML().CreateExperiment(soup, new AutoMLTaskOptions { Task = AutoMLTask.Ordinal, NumberOfFolds = 2, Seed = 5 })
            .SetPipeline(new SweepablePipeline(SweepableTrainers.LbfgsMaximumEntropy()));
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var best = await experiment.RunAsync(cancellation.Token);

        Assert.AreEqual(TrialStatus.Completed, best.Status);
        Assert.IsNotNull(best.Model);
        var scores = ml.Data.CreateEnumerable<Scored>(best.Model.Transform(soup), false).First().Score;
        Assert.AreEqual(1.0, scores.Sum(), 1e-5);
        (best.Model as IDisposable)?.Dispose();
    }

    private sealed class Scored
    {
        public float[] Score { get; set; } = [];
    }

    [TestMethod]
    public async Task A_survival_search_places_covariates_and_scores_by_concordance()
    {
        var ml = new MLContext(1);
        var lung = ml.Data.LoadFromTextFile(DataFile("veteran.csv"), [
            new TextLoader.Column("Time", DataKind.Single, 2), new TextLoader.Column("Status", DataKind.Single, 3),
            new TextLoader.Column("Karno", DataKind.Single, 4), new TextLoader.Column("Age", DataKind.Single, 6), new TextLoader.Column("Prior", DataKind.Single, 7),
        ], separatorChar: ',', hasHeader: true, allowQuoting: true);
        var options = new AutoMLTaskOptions
        {
            Task = AutoMLTask.Survival, TimeColumnName = "Time", EventColumnName = "Status", SurvivalFeatureColumnNames = ["Karno", "Age", "Prior"], NumberOfFolds = 3, Seed = 2,
        };
        var experiment = ml.PaperAutoML().CreateExperiment(lung, options).SetMaxModelToExplore(6);
        var best = await experiment.RunAsync();

        var first = experiment.Trials.First(t => t.TrialSettings.TrialId == 0);
        Assert.AreEqual("{\"FlexibleSurvival\":{\"Baseline\":\"free\",\"Place:Age\":\"ph\",\"Place:Karno\":\"ph\",\"Place:Prior\":\"ph\"},\"Trainer\":\"FlexibleSurvival\"}",
            first.TrialSettings.Parameter.ToString(), "the search starts from the trainer's defaults: every covariate on PH, kappa estimated");
        // Karnofsky score is strongly prognostic in the veteran data: concordance well above chance.
        Assert.IsTrue(best.Metric is > 0.65 and < 0.8, $"{best.Metric}");
        // 137 rows: the two best of the four search trials are scored on a second draw of the folds (six trials in all), and the
        // returned one has the best mean C over both draws.
        var search = experiment.Trials.Where(t => t.ReevaluationOf is null).ToList();
        Assert.AreEqual(4, search.Count);
        var top = search.OrderByDescending(t => t.Metric).Take(2).ToList();
        CollectionAssert.Contains(top, best);
        Assert.AreEqual(top.Max(t => t.SelectionMetric), best.SelectionMetric);
        Assert.IsTrue(best.Metric >= search.Where(t => !top.Contains(t)).Max(t => t.Metric));
        (best.Model as IDisposable)?.Dispose();
    }

    [TestMethod]
    public async Task A_survival_search_uses_the_smac_tuner_by_default()
    {
        // The trials are scored by a function (no model is fitted): the tuner alone decides which parameters run.
        var ml = new MLContext(1);
        var veteran = ml.Data.LoadFromTextFile(DataFile("veteran.csv"), [
            new TextLoader.Column("Time", DataKind.Single, 2), new TextLoader.Column("Status", DataKind.Single, 3),
            new TextLoader.Column("Karno", DataKind.Single, 4), new TextLoader.Column("Age", DataKind.Single, 6),
        ], separatorChar: ',', hasHeader: true, allowQuoting: true);
        var options = new AutoMLTaskOptions { Task = AutoMLTask.Survival, TimeColumnName = "Time", EventColumnName = "Status", SurvivalFeatureColumnNames = ["Karno", "Age"], Seed = 4 };
        static double Loss(Parameter p) => p.ToString().Length % 7;
        async Task<string[]> Trials(Func<AutoMLExperiment, AutoMLExperiment> tuner)
        {
            var experiment = tuner(ml.PaperAutoML().CreateExperiment(veteran, options)).SetTrialRunner(new FunctionRunner(Loss)).SetMaxModelToExplore(12);
            await experiment.RunAsync();
            return [.. experiment.Trials.OrderBy(t => t.TrialSettings.TrialId).Select(t => t.TrialSettings.Parameter.ToString())];
        }
        var byDefault = await Trials(e => e);
        CollectionAssert.AreEqual(await Trials(e => e.SetSmacTuner()), byDefault);
        CollectionAssert.AreNotEqual(await Trials(e => e.SetCostFrugalTuner()), byDefault);
    }

    [TestMethod]
    public async Task Text_classification_searches_the_fine_tuners_options()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(TextFineTuningTrainerTests.Reviews(96, 1));
        var trainer = SweepableTrainers.TextFineTuning(new TextFineTuningTrainer.Options
        {
            ModelPath = TinyBertBatch.Folder("tiny-bert"), MaxSequenceLength = 32, Seed = 5, Device = ComputeDevice.Cpu,
        });
        // Narrowed in code: a tiny model learns in a few epochs at a larger rate.
        trainer.SearchSpace["Epochs"] = new UniformIntOption(6, 10, init: 8);
        trainer.SearchSpace["BatchSize"] = new UniformIntOption(4, 8, init: 8);
        trainer.SearchSpace["LearningRate"] = new UniformDoubleOption(3e-3, 3e-2, logBase: true, init: 1e-2);
        var pipeline = new SweepablePipeline(trainer) { Prefix = ml.Transforms.Conversion.MapValueToKey("Label") };
        var experiment = ml.PaperAutoML().CreateExperiment().SetPipeline(pipeline).SetDataset(DatasetSplit.Random(data, 0.25, seed: 2))
            .SetMetric(AutoMLMetric.For(AutoMLTask.TextClassification, "accuracy")).SetMaxModelToExplore(3).SetSeed(3);
        var best = await experiment.RunAsync();

        Assert.IsTrue(experiment.Trials.All(t => t.Status == TrialStatus.Completed), string.Join("; ", experiment.Trials.Select(t => t.Exception?.Message)));
        Assert.AreEqual(8, (int)((Parameter)experiment.Trials.Single(t => t.TrialSettings.TrialId == 0).TrialSettings.Parameter["TextFineTuning"])["Epochs"]);
        Assert.IsTrue(best.Metric >= 0.75, $"held-out accuracy {best.Metric}");
        (best.Model as IDisposable)?.Dispose();
    }

    [TestMethod]
    [DataRow(AutoMLTask.Binary, "auc")]
    [DataRow(AutoMLTask.Multiclass, "macrof1")]
    [DataRow(AutoMLTask.Regression, "r2")]
    public async Task MLNet_tasks_try_each_of_their_trainers_and_learn_a_plain_signal(AutoMLTask task, string metric)
    {
        // y = x0 - x1 (+ noise): a sign for binary, three bands for multiclass, the value for regression.
        var random = new Random(3);
        var rows = Enumerable.Range(0, 300).Select(_ =>
        {
            float x0 = (float)random.NextDouble(), x1 = (float)random.NextDouble(), y = x0 - x1 + 0.1f * (float)(random.NextDouble() - 0.5);
            return new SignalRow { Features = [x0, x1, (float)random.NextDouble()], Value = y, Sign = y > 0, Band = y < -0.3f ? "low" : y > 0.3f ? "high" : "middle" };
        }).ToArray();
        var ml = new MLContext(1);
        var label = task switch { AutoMLTask.Binary => "Sign", AutoMLTask.Multiclass => "Band", _ => "Value" };
        var experiment = ml.PaperAutoML().CreateExperiment(ml.Data.LoadFromEnumerable(rows), new AutoMLTaskOptions { Task = task, LabelColumnName = label, MetricName = metric, NumberOfFolds = 3, Seed = 1 })
            .SetMaxModelToExplore(task == AutoMLTask.Regression ? 3 : 4);
        var best = await experiment.RunAsync();

        Assert.IsTrue(experiment.Trials.All(t => t.Status == TrialStatus.Completed), string.Join("; ", experiment.Trials.Select(t => t.Exception?.Message)));
        Assert.AreEqual(experiment.Trials.Count, experiment.Trials.Select(t => t.TrainerName).Distinct().Count(), "each trainer once first");
        Assert.IsTrue(best.Metric > 0.8, $"{metric} {best.Metric}");
        (best.Model as IDisposable)?.Dispose();
    }

    private sealed class SignalRow
    {
        [VectorType(3)]
        public float[] Features { get; set; } = [];

        public float Value { get; set; }

        public bool Sign { get; set; }

        public string Band { get; set; } = "";
    }

    [TestMethod]
    [TestCategory("Slow")]
    public async Task A_semi_supervised_search_tries_label_spreading_wad_and_a_supervised_baseline() => await SemiSupervisedSearch(withWad: true);

    [TestMethod]
    public async Task A_semi_supervised_search_of_label_spreading_and_a_supervised_baseline_skips_the_unlabelled_rows() => await SemiSupervisedSearch(withWad: false);

    private static async Task SemiSupervisedSearch(bool withWad)
    {
        // Two well separated blobs, 10 labels each among 240 rows.
        var random = new Random(4);
        var rows = Enumerable.Range(0, 240).Select(i =>
        {
            var c = i % 2;
            return new BlobRow
            {
                Label = i < 20 ? c : float.NaN,
                Features = [(float)(3 * c + random.NextDouble()), (float)(3 * c + random.NextDouble()), (float)random.NextDouble()],
            };
        }).ToArray();
        var ml = new MLContext(1);
        var experiment = ml.PaperAutoML().CreateExperiment(ml.Data.LoadFromEnumerable(rows), new AutoMLTaskOptions { Task = AutoMLTask.SemiSupervised, NumberOfFolds = 2, Seed = 1 })
            .SetMaxModelToExplore(withWad ? 3 : 2);
        // WAD's trials take a minute on two cores; the default suite searches the other two.
        if (!withWad) experiment.SetPipeline(new SweepablePipeline(SweepableTrainers.LabelSpreading(), SweepableTrainers.LbfgsMaximumEntropy()));
        var best = await experiment.RunAsync();

        string[] expected = withWad ? ["LabelSpreading", "Wad", "LbfgsMaximumEntropy"] : ["LabelSpreading", "LbfgsMaximumEntropy"];
        CollectionAssert.AreEqual(expected, experiment.Trials.OrderBy(t => t.TrialSettings.TrialId).Select(t => t.TrainerName).ToArray());
        Assert.IsTrue(experiment.Trials.All(t => t.Status == TrialStatus.Completed), string.Join("; ", experiment.Trials.Select(t => t.Exception?.Message)));
        Assert.AreEqual(1.0, best.Metric, "accuracy on the held-out labelled rows of separated blobs");
        (best.Model as IDisposable)?.Dispose();
    }

    private sealed class BlobRow
    {
        public float Label { get; set; }

        [VectorType(3)]
        public float[] Features { get; set; } = [];
    }

    [TestMethod]
    public void A_semi_supervised_split_holds_out_only_labelled_rows()
    {
        var ml = new MLContext(1);
        var rows = Enumerable.Range(0, 40).Select(i => new LabelRow { Label = i % 4 == 0 ? i % 3 : float.NaN, X = i }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        var split = DatasetSplit.CrossValidation(data, 5, seed: 3, unlabeledStayInTraining: "Label");

        var heldOut = new List<float>();
        foreach (var (train, validation) in split.Folds)
        {
            var trainX = train.GetColumn<float>("X").ToList();
            var validationX = validation.GetColumn<float>("X").ToList();
            Assert.IsTrue(validation.GetColumn<float>("Label").All(l => !float.IsNaN(l)));
            Assert.AreEqual(30, trainX.Count(x => x % 4 != 0), "every unlabelled row trains in every fold");
            Assert.AreEqual(40, trainX.Count + validationX.Count);
            heldOut.AddRange(validationX);
        }
        CollectionAssert.AreEquivalent(Enumerable.Range(0, 10).Select(i => 4f * i).ToArray(), heldOut.ToArray(), "each labelled row is held out once");
    }

    [TestMethod]
    public async Task Task_experiments_reevaluate_their_best_trials_below_a_thousand_rows_that_can_be_held_out()
    {
        // A regression of 999 rows and one of 1,000, 9 trials of 2-fold CV each: the smaller re-evaluates its best three (a third
        // of the trials); the larger spends all nine on the search.
        var random = new Random(5);
        var rows = Enumerable.Range(0, 1000).Select(_ =>
        {
            float x0 = (float)random.NextDouble(), x1 = (float)random.NextDouble(), y = x0 - x1 + 0.1f * (float)(random.NextDouble() - 0.5);
            return new SignalRow { Features = [x0, x1, (float)random.NextDouble()], Value = y };
        }).ToArray();
        var ml = new MLContext(1);
        async Task<AutoMLExperiment> Search(int count)
        {
            var experiment = ml.PaperAutoML().CreateExperiment(ml.Data.LoadFromEnumerable(rows.Take(count)),
                    new AutoMLTaskOptions { Task = AutoMLTask.Regression, LabelColumnName = "Value", NumberOfFolds = 2, Seed = 1 })
                .SetPipeline(new SweepablePipeline(SweepableTrainers.SdcaRegression("Value"))).SetMaxModelToExplore(9);
            ((await experiment.RunAsync()).Model as IDisposable)?.Dispose();
            return experiment;
        }
        var small = await Search(999);
        Assert.AreEqual(9, small.Trials.Count);
        Assert.AreEqual(3, small.Trials.Count(t => t.ReevaluationOf is not null));
        var large = await Search(1000);
        Assert.AreEqual(9, large.Trials.Count(t => t.ReevaluationOf is null));

        // Semi-supervised: the labelled rows count (20 of 240 here), and the user can turn it off.
        var blobs = Enumerable.Range(0, 240).Select(i => new BlobRow { Label = i < 20 ? i % 2 : float.NaN, Features = [i % 2, 0, (float)random.NextDouble()] }).ToArray();
        var options = new AutoMLTaskOptions { Task = AutoMLTask.SemiSupervised, NumberOfFolds = 2, Seed = 1 };
        var pipeline = new SweepablePipeline(SweepableTrainers.LbfgsMaximumEntropy());
        var semi = ml.PaperAutoML().CreateExperiment(ml.Data.LoadFromEnumerable(blobs), options).SetPipeline(pipeline).SetMaxModelToExplore(6);
        ((await semi.RunAsync()).Model as IDisposable)?.Dispose();
        Assert.AreEqual(2, semi.Trials.Count(t => t.ReevaluationOf is not null));
        var off = ml.PaperAutoML().CreateExperiment(ml.Data.LoadFromEnumerable(blobs), options).SetPipeline(pipeline).SetMaxModelToExplore(6).SetFinalReevaluation(0);
        ((await off.RunAsync()).Model as IDisposable)?.Dispose();
        Assert.AreEqual(6, off.Trials.Count(t => t.ReevaluationOf is null));
    }

    [TestMethod]
    public void Label_spreading_searches_whether_to_standardise_the_features()
    {
        // Raw pixels beat standardised ones on digits (a near-constant border pixel would weigh as much as the strokes), while
        // standardising suits features of unequal units: a choice, starting from the trainer's default.
        var space = SweepableTrainers.LabelSpreading().SearchSpace;
        var option = (ChoiceOption)space[nameof(Microsoft.ML.PaperExtensions.SemiSupervised.LabelSpreadingTrainer.Options.StandardizeFeatures)];
        CollectionAssert.AreEquivalent(new object[] { true, false }, option.Values.ToArray());
        Assert.AreEqual(true, space.DefaultParameter[nameof(Microsoft.ML.PaperExtensions.SemiSupervised.LabelSpreadingTrainer.Options.StandardizeFeatures)]);
    }

    [TestMethod]
    public void Wad_searches_its_teacher_rule_so_that_the_propagation_options_matter()
    {
        // PropagationNeighbors and PropagationAlpha only act with Teacher = Propagation: the teacher is a choice, starting from
        // WAD's anchor rule, and a sampled Propagation point builds options that carry it.
        var sweepable = SweepableTrainers.Wad();
        var option = (ChoiceOption)sweepable.SearchSpace[nameof(WadTrainer.Options.Teacher)];
        CollectionAssert.AreEquivalent(new object[] { "Anchor", "Propagation" }, option.Values.ToArray());
        Assert.AreEqual("Anchor", sweepable.SearchSpace.DefaultParameter[nameof(WadTrainer.Options.Teacher)]);
        CollectionAssert.Contains(sweepable.SearchSpace.Keys.ToArray(), nameof(WadTrainer.Options.PropagationAlpha));
    }

    [TestMethod]
    public void Metrics_that_do_not_exist_or_do_not_fit_the_task_are_refused_with_the_valid_ones()
    {
        var unknown = Assert.ThrowsExactly<ArgumentException>(() => AutoMLMetric.For(AutoMLTask.Ordinal, "auroc"));
        StringAssert.Contains(unknown.Message, "brier, rps, rarebrier, qwk");
        var misplaced = Assert.ThrowsExactly<ArgumentException>(() => AutoMLMetric.For(AutoMLTask.Survival, "brier"));
        StringAssert.Contains(misplaced.Message, "'brier' is a metric of: ordinal");
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(new[] { new LabelRow { Label = 1, X = 1 }, new LabelRow { Label = 2, X = 2 } });
        var noRows = Assert.ThrowsExactly<ArgumentException>(() => ml.PaperAutoML().CreateExperiment(ml.Data.LoadFromEnumerable(Array.Empty<LabelRow>()),
            new AutoMLTaskOptions { Task = AutoMLTask.Regression, FeatureColumnName = "X" }));
        StringAssert.Contains(noRows.Message, "no rows");
        var missing = Assert.ThrowsExactly<ArgumentException>(() => ml.PaperAutoML().CreateExperiment(data, new AutoMLTaskOptions { Task = AutoMLTask.Multiclass }));
        StringAssert.Contains(missing.Message, "Column 'Features' was not found");
    }
}
