using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;
using Microsoft.ML.PaperExtensions.FineTuning;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.Tests.Text;
using Microsoft.ML.PaperExtensions.Text;
using Microsoft.ML.PaperExtensions.Text.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Tests.FineTuning;

/// <summary>The fine-tuning trainers in ML.NET pipelines, on the tiny random BERT: they learn, score in process as the saved chain does, save and load, and export PEFT adapters.</summary>
[TestClass]
public sealed class TextFineTuningTrainerTests
{
    internal sealed class Review
    {
        public string Text { get; set; } = "";
        public string Second { get; set; } = "";
        public string Label { get; set; } = "";
        public float Rating { get; set; }
    }

    private sealed class Scores
    {
        public float[] Score { get; set; } = [];
        public uint PredictedLabel { get; set; }
    }

    /// <summary>Short texts whose class (pos / neg) is decided by one to three cue words among fillers.</summary>
    internal static Review[] Reviews(int count, int seed)
    {
        var random = new Random(seed);
        string[] positive = ["happy", "good", "love", "like"], negative = ["sad", "bad", "old", "no"];
        string[] fillers = ["the", "cat", "dog", "bird", "sat", "on", "mat", "house", "tree", "car", "park", "day", "night", "water", "food", "coffee", "tea"];
        return Enumerable.Range(0, count).Select(i =>
        {
            var words = Enumerable.Range(0, 3 + random.Next(6)).Select(_ => fillers[random.Next(fillers.Length)]).ToList();
            int cues = 1 + random.Next(3);
            for (int c = 0; c < cues; c++) words.Insert(random.Next(words.Count + 1), (i % 2 == 0 ? positive : negative)[random.Next(4)]);
            return new Review { Text = string.Join(' ', words), Second = fillers[random.Next(fillers.Length)], Label = i % 2 == 0 ? "pos" : "neg", Rating = (i % 2 == 0 ? 1 : -1) * cues };
        }).ToArray();
    }

    private static TextFineTuningTrainer.Options Options(FineTuningMethod method = FineTuningMethod.Lora) => new()
    {
        ModelPath = TinyBertBatch.Folder("tiny-bert"), Method = method, Rank = 4, Alpha = 8, LearningRate = 1e-2, Epochs = 8, BatchSize = 8,
        MaxSequenceLength = 32, Seed = 5, Device = ComputeDevice.Cpu,
    };

    [TestMethod]
    public void AClassifierLearnsScoresLikeItsSavedChainReloadsAndExportsItsAdapter()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Reviews(96, 1));
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.FineTuneText(Options()));
        using var model = pipeline.Fit(data);
        var tuned = (TextFineTuningTransformer)model.LastTransformer;
        Assert.AreEqual(96, tuned.Report.Rows);
        CollectionAssert.AreEqual(new[] { "pos", "neg" }, tuned.Report.ClassNames.ToArray());
        Assert.IsLessThan(tuned.Report.TotalParameters / 10, tuned.Report.TrainableParameters);

        var test = ml.Data.LoadFromEnumerable(Reviews(64, 2));
        var scored = model.Transform(test);
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        Assert.IsGreaterThan(0.9, metrics.MicroAccuracy, "held-out accuracy (the cue words decide the class)");

        var keyed = model.Transform(test);
        var rowByRow = tuned.TransformRowByRow(((ITransformer)model.First()).Transform(test));
        var batched = ml.Data.CreateEnumerable<Scores>(keyed, false).ToList();
        var chain = ml.Data.CreateEnumerable<Scores>(rowByRow, false).ToList();
        for (int i = 0; i < batched.Count; i++)
        {
            Assert.IsLessThan(1e-5, EncoderRun.MaxAbsDifference(batched[i].Score, chain[i].Score), $"row {i}");
            Assert.AreEqual(chain[i].PredictedLabel, batched[i].PredictedLabel);
        }

        string zip = Path.Combine(Directory.CreateTempSubdirectory().FullName, "classifier.zip");
        ml.Model.Save(model, data.Schema, zip);
        var fresh = new MLContext(seed: 9);
        fresh.ComponentCatalog.RegisterAssembly(typeof(PretrainedEncoder).Assembly);
        var loaded = fresh.Model.Load(zip, out _);
        var reloaded = fresh.Data.CreateEnumerable<Scores>(loaded.Transform(fresh.Data.LoadFromEnumerable(Reviews(64, 2))), false).ToList();
        for (int i = 0; i < batched.Count; i++) Assert.IsLessThan(1e-5, EncoderRun.MaxAbsDifference(batched[i].Score, reloaded[i].Score), $"reloaded row {i}");

        // The PEFT export, applied to a fresh encoder by the independent path of the adapter tests, gives the same probabilities.
        string folder = Directory.CreateTempSubdirectory().FullName;
        tuned.SaveAdapter(folder);
        var adapter = PeftAdapterFile.Read(folder);
        TorchRuntime.EnsureInitialized();
        using var encoder = BertModel.FromCheckpoint(HuggingFaceCheckpoint.Read(TinyBertBatch.Folder("tiny-bert")));
        PeftAdapterFile.LoadInto(EncoderAdapters.Attach(encoder, adapter.Settings), adapter);
        encoder.eval();
        var tokenizer = BertWordPieceTokenizer.FromVocabulary(Path.Combine(TinyBertBatch.Folder("tiny-bert"), "vocab.txt"));
        var tokens = tokenizer.EncodeBatch(Reviews(64, 2).Select(r => r.Text).Take(4).ToList(), null, 32);
        using var scope = NewDisposeScope();
        long[] shape = [tokens.Rows, tokens.Length];
        var mask = tensor(tokens.AttentionMask, shape);
        var hidden = encoder.forward(tensor(tokens.InputIds, shape), mask, tensor(tokens.TokenTypeIds, shape));
        var weights = mask.to_type(ScalarType.Float32).unsqueeze(2);
        var pooled = (hidden * weights).sum(1) / weights.sum(1);
        var probabilities = nn.functional.linear(pooled, adapter.Tensors["classifier.weight"], adapter.Tensors["classifier.bias"]).softmax(1).data<float>().ToArray();
        Assert.IsLessThan(1e-5, EncoderRun.MaxAbsDifference(probabilities, batched.Take(4).SelectMany(b => b.Score).ToArray()), "PEFT adapter + classifier");
    }

    [TestMethod]
    public void AFineTunedModelZipPredictsTheSameInAFreshProcess()
    {
        // Fit and save here; load and predict in another process (tests/PaperExtensions.Predict), which has only the libraries
        // and the zip: no encoder, tokenizer, adapter or ONNX session of this process can leak into its predictions.
        var ml = new MLContext(seed: 1);
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(Reviews(96, 1))).Transform(ml.Data.LoadFromEnumerable(Reviews(96, 1)));
        using var tuned = ml.MulticlassClassification.Trainers.FineTuneText(Options()).Fit(keyed);
        string folder = Directory.CreateTempSubdirectory("fresh-process").FullName;
        try
        {
            string zip = Path.Combine(folder, "classifier.zip"), textsFile = Path.Combine(folder, "texts.txt");
            ml.Model.Save(tuned, keyed.Schema, zip);
            var texts = Reviews(24, 2).Select(r => r.Text).Append("").Append("love love love good").ToArray();   // an empty text and a repeated cue too
            File.WriteAllLines(textsFile, texts);
            var rows = ml.Data.LoadFromEnumerable(texts.Select(t => new Review { Text = t }));
            var inProcess = ml.Data.CreateEnumerable<Scores>(tuned.Transform(rows), false).Select(s => s.Score).ToList();
            var fresh = new MLContext(seed: 2);
            fresh.ComponentCatalog.RegisterAssembly(typeof(PretrainedEncoder).Assembly);
            var loadedHere = fresh.Data.CreateEnumerable<Scores>(fresh.Model.Load(zip, out _).Transform(rows), false).Select(s => s.Score).ToList();

            var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "paperextensions-predict.dll"), zip, textsFile }) start.ArgumentList.Add(arg);
            using var process = System.Diagnostics.Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(1)))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail("paperextensions-predict did not finish in a minute");
            }
            Assert.AreEqual(0, process.ExitCode, error.Result);
            var other = output.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split(' ').Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray()).ToList();
            Assert.HasCount(texts.Length, other);
            for (int i = 0; i < texts.Length; i++)
            {
                CollectionAssert.AreEqual(loadedHere[i], other[i], $"row {i} ('{texts[i]}'): the same zip loaded here and in a fresh process");
                Assert.IsLessThan(1e-5, EncoderRun.MaxAbsDifference(inProcess[i], other[i]), $"row {i}: the fitted transformer and the fresh process");
                Assert.AreEqual(1.0, other[i].Sum(), 1e-5, $"row {i}: probabilities");
            }
            Assert.IsGreaterThan(0.9, Enumerable.Range(0, 24).Count(i => (other[i][0] > other[i][1]) == (i % 2 == 0)) / 24.0, "the fresh process predicts the learnt classes");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    [DataRow(FineTuningMethod.AlLora)]
    [DataRow(FineTuningMethod.Full)]
    public void RegressionOnSentencePairsLearnsAndMatchesItsSavedChain(FineTuningMethod method)
    {
        var ml = new MLContext(seed: 1);
        var reviews = Reviews(96, 3);
        var options = Options(method);
        options.LabelColumnName = nameof(Review.Rating);
        options.SecondTextColumnName = nameof(Review.Second);
        if (method == FineTuningMethod.Full) options.LearningRate = 1e-3;
        using var model = ml.Regression.Trainers.FineTuneText(options).Fit(ml.Data.LoadFromEnumerable(reviews));
        var test = ml.Data.LoadFromEnumerable(Reviews(64, 4));
        var metrics = ml.Regression.Evaluate(model.Transform(test), nameof(Review.Rating));
        Assert.IsGreaterThan(0.6, metrics.RSquared, $"R^2 {metrics.RSquared:F3}; losses {string.Join(", ", model.Report.EpochLosses.Select(l => l.ToString("F3")))}");
        var batched = model.Transform(test).GetColumn<float>("Score").ToArray();
        var chain = model.TransformRowByRow(test).GetColumn<float>("Score").ToArray();
        Assert.IsLessThan(1e-4, EncoderRun.MaxAbsDifference(batched, chain));
        if (method == FineTuningMethod.Full) Assert.ThrowsExactly<InvalidOperationException>(() => model.SaveAdapter(Directory.CreateTempSubdirectory().FullName));
    }

    [TestMethod]
    public void AValidationSetKeepsTheBestEpochAndStopsWhenItGetsWorse()
    {
        var ml = new MLContext(seed: 1);
        var flipped = Reviews(48, 6).Select(r => new Review { Text = r.Text, Label = r.Label == "pos" ? "neg" : "pos" });
        var options = Options();
        // With the encoder's dropout (0.1) the tiny BERT learns slowly at 1e-2: the flipped validation loss fell once (0.765, 0.751,
        // 0.831) before rising. At 2e-2 the task is learnt in the first epoch, so the flipped loss rises at once (0.811, 0.900).
        options.LearningRate = 2e-2;
        options.ValidationSet = ml.Data.LoadFromEnumerable(flipped);
        using var worse = ml.MulticlassClassification.Trainers.FineTuneText(options).Fit(ml.Data.LoadFromEnumerable(Reviews(96, 1)));
        var report = worse.Report;
        Assert.AreEqual(1, report.BestEpoch, $"validation losses {string.Join(", ", report.ValidationLosses.Select(l => l.ToString("F3")))}");
        Assert.HasCount(2, report.EpochLosses, "stopped one epoch after the best (patience 1)");
        Assert.IsGreaterThan(report.ValidationLosses[0], report.ValidationLosses[1]);

        options.ValidationSet = ml.Data.LoadFromEnumerable(Reviews(48, 7));
        options.EarlyStoppingPatience = 8;
        using var better = ml.MulticlassClassification.Trainers.FineTuneText(options).Fit(ml.Data.LoadFromEnumerable(Reviews(96, 1)));
        Assert.HasCount(8, better.Report.EpochLosses);
        var losses = better.Report.ValidationLosses.ToList();
        Assert.AreEqual(losses.IndexOf(losses.Min()) + 1, better.Report.BestEpoch, "the epoch with the lowest validation loss is kept");
        Assert.IsLessThan(losses[0], losses.Min(), "held-out rows of the same task: the validation loss falls");

        options.ValidationSet = ml.Data.LoadFromEnumerable(Reviews(8, 8).Select(r => new Review { Text = r.Text, Label = "maybe" }));
        var unknown = Assert.ThrowsExactly<ArgumentException>(() => ml.MulticlassClassification.Trainers.FineTuneText(options).Fit(ml.Data.LoadFromEnumerable(Reviews(96, 1))));
        StringAssert.Contains(unknown.Message, "'maybe'");
    }

    [TestMethod]
    public void BadLabelsTextsAndOptionsAreNamed()
    {
        var ml = new MLContext(seed: 1);
        var oneClass = Reviews(8, 1).Select(r => new Review { Text = r.Text, Label = "pos" });
        var e = Assert.ThrowsExactly<ArgumentException>(() => ml.MulticlassClassification.Trainers.FineTuneText(Options()).Fit(ml.Data.LoadFromEnumerable(oneClass)));
        StringAssert.Contains(e.Message, "one class ('pos')");
        var empty = Reviews(8, 1).Select(r => new Review { Text = "", Label = r.Label });
        e = Assert.ThrowsExactly<ArgumentException>(() => ml.MulticlassClassification.Trainers.FineTuneText(Options()).Fit(ml.Data.LoadFromEnumerable(empty)));
        StringAssert.Contains(e.Message, "Every text of column 'Text' is empty");
        var missing = Reviews(8, 1).Select((r, i) => new Review { Text = r.Text, Label = i == 5 ? "" : r.Label });
        var value = Assert.ThrowsExactly<DataValueException>(() => ml.MulticlassClassification.Trainers.FineTuneText(Options()).Fit(ml.Data.LoadFromEnumerable(missing)));
        Assert.AreEqual(5, value.FirstRow);
        var targets = Options();
        targets.TargetModules = ["query", "attention"];
        e = Assert.ThrowsExactly<ArgumentException>(() => ml.MulticlassClassification.Trainers.FineTuneText(targets).Fit(ml.Data.LoadFromEnumerable(Reviews(8, 1))));
        StringAssert.Contains(e.Message, "'attention'");
        var rank = Options();
        rank.Rank = 64;
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.FineTuneText(rank).Fit(ml.Data.LoadFromEnumerable(Reviews(8, 1))));
        var rate = Options();
        rate.LearningRate = -1;
        var option = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.FineTuneText(rate));
        Assert.AreEqual(nameof(TextFineTuningTrainer.Options.LearningRate), option.ParamName);
    }
}
