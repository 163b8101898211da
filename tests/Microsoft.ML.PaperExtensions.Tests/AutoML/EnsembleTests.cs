using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.AutoML;
using Microsoft.ML.PaperExtensions.TestSupport;

namespace Microsoft.ML.PaperExtensions.Tests.AutoML;

[TestClass]
public sealed class EnsembleTests
{
    private static string DataFile(string name) => Path.Combine(AppContext.BaseDirectory, "Data", name);

    // Two validation rows, classes 1 and 2 (key values 1-based). Brier of a row = sum over classes of (p - 1{y = k})^2.
    // A says class 1 for both rows: 0 + 2, mean 1. B says class 2 for both: 2 + 0, mean 1. Their average says 0.5 / 0.5:
    // 0.5 + 0.5, mean 0.5. Adding A or B again gives 2/3 : 1/3 on both rows, (2/9 + 8/9) / 2 = 5/9. U (uniform) added to A + B
    // leaves the average at 0.5 / 0.5, no better.
    private static readonly float[] A = [1, 0, 1, 0], B = [0, 1, 0, 1], U = [0.5f, 0.5f, 0.5f, 0.5f];

    private static (EnsembleLibrary Library, TrialResult[] Trials, MLContext Ml) Library(params (float[] Scores, double Brier)[] models) =>
        Library(8, [.. models.Select(m => (m.Scores, m.Brier, "Same"))]);

    private static (EnsembleLibrary Library, TrialResult[] Trials, MLContext Ml) Library(int capacity, params (float[] Scores, double Brier, string Trainer)[] models)
    {
        var ml = new MLContext(1);
        // LoadFromEnumerable takes key values 0-based: classes 1 and 2, in a label column named "Grade".
        var schema = SchemaDefinition.Create(typeof(KeyRow));
        schema[nameof(KeyRow.Label)].ColumnType = new KeyDataViewType(typeof(uint), 2);
        schema[nameof(KeyRow.Label)].ColumnName = "Grade";
        var validation = ml.Data.LoadFromEnumerable(new[] { new KeyRow { Label = 0 }, new KeyRow { Label = 1 } }, schema);
        var library = new EnsembleLibrary(DatasetSplit.Holdout(validation, validation), "Grade", capacity);
        var trials = models.Select((m, i) => new TrialResult
        {
            TrialSettings = new TrialSettings(i, new Parameter([new(BranchSearchSpace.BranchKey, m.Trainer)])),
            Status = TrialStatus.Completed,
            Metric = m.Brier,
            Loss = m.Brier,
        }).ToArray();
        for (var i = 0; i < trials.Length; i++) library.Add(trials[i], [models[i].Scores]);
        return (library, trials, ml);
    }

    [TestMethod]
    public void Selection_adds_the_model_that_lowers_the_loss_and_stops_when_none_does()
    {
        var (library, trials, ml) = Library((A, 1), (B, 1), (U, 0.5));
        var (members, metric, folds) = library.Select(trials[0], AutoMLMetric.For(AutoMLTask.Ordinal, "brier", "Grade"), ml, maxSteps: 20);

        Assert.AreEqual(0.5, metric, 1e-6, "the average of A and B");
        CollectionAssert.AreEqual(new[] { 0.5 }, folds.Select(f => Math.Round(f, 6)).ToArray());
        CollectionAssert.AreEqual(new[] { trials[0], trials[1] }, members.Select(m => m.Trial).ToArray(), "U ties the average and is not added");
        CollectionAssert.AreEqual(new[] { 0.5, 0.5 }, members.Select(m => m.Weight).ToArray());
    }

    [TestMethod]
    public void Selection_keeps_the_single_best_model_when_no_average_beats_it()
    {
        var (library, trials, ml) = Library((U, 0.5), (A, 1));
        var (members, metric, _) = library.Select(trials[0], AutoMLMetric.For(AutoMLTask.Ordinal, "brier", "Grade"), ml, maxSteps: 20);

        Assert.AreEqual(1, members.Count, "U + A gives 0.75 / 0.25 on both rows: (1/8 + 9/8) / 2 = 0.625");
        Assert.AreSame(trials[0], members[0].Trial);
        Assert.AreEqual(0.5, metric, 1e-6);
    }

    [TestMethod]
    public void Selection_steps_bound_the_repetitions()
    {
        var (library, trials, ml) = Library((A, 1), (B, 1));
        var (members, _, _) = library.Select(trials[0], AutoMLMetric.For(AutoMLTask.Ordinal, "brier", "Grade"), ml, maxSteps: 1);
        Assert.AreEqual(1, members.Count, "one step: the start alone");
    }

    [TestMethod]
    public void The_library_keeps_the_best_trials_of_each_trainer()
    {
        // Capacity 2 per trainer: trainer A's third and worse trial is dropped, trainer B's only trial stays although it is
        // worse than all of A's.
        var (library, trials, _) = Library(2, (A, 0.6, "A"), (A, 0.5, "A"), (B, 0.9, "B"), (U, 0.7, "A"));
        CollectionAssert.AreEqual(new[] { trials[0], trials[1], trials[2] }, library.Kept.ToArray());
    }

    [TestMethod]
    public async Task An_ordinal_search_returns_an_average_of_trials_that_scores_better_than_each_and_saves()
    {
        var ml = new MLContext(1);
        var soup = SoupFeatures.Load(ml, DataFile("soup.csv"));
        var options = new AutoMLTaskOptions { Task = AutoMLTask.Ordinal, NumberOfFolds = 3, Seed = 1 };
        // Five trials: each trainer at its initial values (the cost-frugal tuner's first round), so the trials do not depend on timing.
        var experiment = ml.PaperAutoML().CreateExperiment(soup, options).SetMaxModelToExplore(5);
        var best = await experiment.RunAsync();

        Assert.IsNotNull(best.Ensemble, "on soup.csv the average of the five trainers' defaults beats each alone");
        var model = (EnsembleModel)best.Model!;
        Assert.AreEqual("Ensemble", best.TrainerName);
        Assert.IsTrue(best.Metric < experiment.Trials.Min(t => t.Metric), $"ensemble {best.Metric} against the best trial {experiment.Trials.Min(t => t.Metric)}");
        Assert.AreEqual(best.FoldMetrics.Average(), best.Metric, 1e-12);
        Assert.AreEqual(1, best.Ensemble.Sum(m => m.Weight), 1e-12);
        Assert.IsTrue(best.Ensemble.All(m => experiment.Trials.Contains(m.Trial)));
        CollectionAssert.AreEqual(best.Ensemble.Select(m => m.Weight).ToArray(), model.Weights.ToArray());

        // The model's Score is the weighted mean of its members' Score columns, computed here from each member's own output,
        // and PredictedLabel its arg max; members' other columns are gone.
        var memberScores = model.Members.Select(m => ml.Data.CreateEnumerable<Scored>(m.Transform(soup), false).Take(50).ToList()).ToList();
        var scored = model.Transform(soup);
        Assert.IsTrue(model.Members.Any(m => m.GetOutputSchema(soup.Schema).GetColumnOrNull("RareClassProbability") is not null), "an ordinal model is a member");
        CollectionAssert.AreEquivalent(soup.Schema.Where(c => !c.IsHidden).Select(c => c.Name).Append("Score").Append("PredictedLabel").ToArray(),
            scored.Schema.Where(c => !c.IsHidden).Select(c => c.Name).ToArray(), "the input's columns, Score and PredictedLabel: no member's own columns");
        var rows = ml.Data.CreateEnumerable<Predicted>(scored, false).Take(50).ToList();
        for (var i = 0; i < rows.Count; i++)
        {
            var expected = Enumerable.Range(0, 6).Select(c => model.Weights.Select((w, m) => w * memberScores[m][i].Score[c]).Sum()).ToArray();
            for (var c = 0; c < 6; c++) Assert.AreEqual(expected[c], rows[i].Score[c], 1e-6, $"row {i}, class {c}");
            Assert.AreEqual((uint)Array.IndexOf(expected, expected.Max()) + 1, rows[i].PredictedLabel, $"row {i}");
        }

        // The pipeline (members, average) saves and loads with plain ML.NET, with the same probabilities, and serves one row at
        // a time as an app does, from the fitted and the loaded model alike.
        var loaded = SavedModel.RoundTrip(ml, model, soup);
        var row = new FeaturesOnly { Features = SoupFeatures.Load(DataFile("soup.csv"))[0].Features };
        var served = ml.Model.CreatePredictionEngine<FeaturesOnly, Predicted>(model).Predict(row);
        var servedLoaded = ml.Model.CreatePredictionEngine<FeaturesOnly, Predicted>(loaded).Predict(row);
        CollectionAssert.AreEqual(rows[0].Score, served.Score);
        CollectionAssert.AreEqual(served.Score, servedLoaded.Score);
        Assert.AreEqual((uint)Array.IndexOf(served.Score, served.Score.Max()) + 1, served.PredictedLabel);
        (loaded as IDisposable)?.Dispose();
        model.Dispose();
    }

    [TestMethod]
    public async Task The_ordinal_task_averages_trials_by_default_only_from_a_thousand_rows_that_can_be_held_out()
    {
        // 999 rows of soup.csv: the default returns the best single trial, although asking for an ensemble finds one there.
        var ml = new MLContext(1);
        var soup = ml.Data.TakeRows(SoupFeatures.Load(ml, DataFile("soup.csv")), 999);
        var options = new AutoMLTaskOptions { Task = AutoMLTask.Ordinal, NumberOfFolds = 3, Seed = 1 };
        async Task<TrialResult> Search(bool ask)
        {
            var experiment = ml.PaperAutoML().CreateExperiment(soup, options).SetMaxModelToExplore(5);
            if (ask) experiment.SetEnsemble();
            var best = await experiment.RunAsync();
            (best.Model as IDisposable)?.Dispose();
            return best;
        }
        Assert.IsNull((await Search(ask: false)).Ensemble);
        Assert.IsNotNull((await Search(ask: true)).Ensemble);
    }

    [TestMethod]
    public async Task An_ensemble_needs_a_key_label_and_class_probabilities_and_says_so()
    {
        var random = new Random(3);
        var rows = Enumerable.Range(0, 60).Select(i => new Row { Features = [(float)random.NextDouble(), (float)random.NextDouble()], Value = (float)random.NextDouble(), Class = i % 2 == 0 ? "a" : "b" }).ToArray();
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(rows);
        AutoMLExperiment Regression(IDataView view, string ensembleLabel) => ml.PaperAutoML().CreateExperiment()
            .SetPipeline(SweepableTrainers.SdcaRegression("Value"))
            .SetDataset(view, 3)
            .SetMetric(AutoMLMetric.For(AutoMLTask.Regression, "rmse", "Value"))
            .SetMaxModelToExplore(3).SetMaximumFailedTrials(2).SetEnsemble(20, ensembleLabel);

        // A label that is not a key: refused before any trial.
        var notKey = await Assert.ThrowsExactlyAsync<InvalidOperationException>(() => Regression(data, "Value").RunAsync());
        StringAssert.Contains(notKey.Message, "label column 'Value' is Single");

        // A pipeline whose Score is one number, not one probability per class: each trial fails saying so, and the search stops.
        var keyed = ml.Transforms.Conversion.MapValueToKey("Class").Fit(data).Transform(data);
        var scalar = await Assert.ThrowsExactlyAsync<InvalidOperationException>(() => Regression(keyed, "Class").RunAsync());
        StringAssert.Contains(scalar.Message, "a 'Score' column of 2 Single values (one per class of 'Class'), but it is Single");
    }

    private sealed class KeyRow
    {
        public uint Label { get; set; }
    }

    private sealed class Row
    {
        [VectorType(2)]
        public float[] Features { get; set; } = [];

        public float Value { get; set; }

        public string Class { get; set; } = "";
    }

    private sealed class FeaturesOnly
    {
        [VectorType(22)]
        public float[] Features { get; set; } = [];
    }

    private sealed class Scored
    {
        public float[] Score { get; set; } = [];
    }

    private sealed class Predicted
    {
        public float[] Score { get; set; } = [];

        [KeyType(6)]
        public uint PredictedLabel { get; set; }
    }
}
