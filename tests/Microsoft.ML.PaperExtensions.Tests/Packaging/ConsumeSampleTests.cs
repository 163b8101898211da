using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.AutoML;
using Microsoft.ML.PaperExtensions.Ordinal;
using Microsoft.ML.PaperExtensions.TestSupport;

namespace Microsoft.ML.PaperExtensions.Tests.Packaging;

/// <summary>
/// samples/PaperExtensions.Consume fits this pipeline from the NuGet packages alone and <c>./build.sh consume</c> compares its
/// output with expected-output.txt; this test computes the same pipelines (PRESTO, a three-trial AutoML search, then MiniLM embeddings of two sentences,
/// and the same with 4-bit RTN weights, which the sample loads and runs in a second process) from the projects, so both
/// sides equal one file.
/// </summary>
[TestClass]
public sealed class ConsumeSampleTests
{
    [TestMethod]
    public async Task TheInRepoPipelinePredictsWhatThePackagedSampleMustPrint()
    {
        var ml = new MLContext(seed: 1);
        var soup = ml.Data.LoadFromTextFile(Path.Combine(AppContext.BaseDirectory, "Data", "soup.csv"),
            [new TextLoader.Column("SURENESS", DataKind.Single, 3), new TextLoader.Column("PROD", DataKind.String, 1),
             new TextLoader.Column("DAY", DataKind.String, 4), new TextLoader.Column("COLD", DataKind.String, 7)],
            separatorChar: ',', hasHeader: true, allowQuoting: true);
        var pipeline = ml.Transforms.Categorical.TreatmentCoding("PROD", "DAY", "COLD")
            .Append(ml.Transforms.Concatenate("Features", "PROD", "DAY", "COLD"))
            .Append(ml.Ordinal().Trainers.Presto(new PrestoTrainer.Options { LabelColumnName = "SURENESS", RareClass = RareClassPosition.First, Lambda = 0.01 }));
        var model = pipeline.Fit(soup);
        var engine = ml.Model.CreatePredictionEngine<Rating, Prediction>(model);

        var lines = new[] { new Rating("Ref", "1", "No"), new Rating("Test", "2", "Yes") }.Select(r =>
            $"PROD={r.PROD} DAY={r.DAY} COLD={r.COLD}: " + string.Join(" ", engine.Predict(r).Score.Select(v => v.ToString("F6", CultureInfo.InvariantCulture))));

        var featurized = ml.Transforms.Categorical.TreatmentCoding("PROD", "DAY", "COLD").Append(ml.Transforms.Concatenate("Features", "PROD", "DAY", "COLD"))
            .Fit(soup).Transform(soup);
        var experiment = ml.PaperAutoML().CreateExperiment(featurized, new AutoMLTaskOptions { Task = AutoMLTask.Ordinal, LabelColumnName = "SURENESS", NumberOfFolds = 3, Seed = 1 })
            .SetPipeline(new SweepablePipeline(SweepableTrainers.Presto("SURENESS"), SweepableTrainers.ProportionalOdds("SURENESS")))
            .SetMaxModelToExplore(3);
        var best = await experiment.RunAsync();
        (best.Model as IDisposable)?.Dispose();
        var automl = $"AutoML: {experiment.Trials.Count} trials ({string.Join(", ", experiment.Trials.Select(t => t.TrainerName))}), best {best.TrainerName}, " +
            $"Brier {best.Metric.ToString("F3", CultureInfo.InvariantCulture)}";

        string[] sentences = ["My dog loves these treats.", "The coffee tastes burnt."];
        var texts = ml.Data.LoadFromEnumerable(sentences.Select(t => new Sentence { Text = t }));
        using var embedding = ml.Transforms.Text.TransformerEmbedding("Embedding", "Text", PretrainedModels.MiniLmFolder).Fit(texts);
        IEnumerable<string> Describe(ITransformer model, string label)
        {
            var engine = ml.Model.CreatePredictionEngine<Sentence, Embedded>(model);
            return sentences.Select(t => engine.Predict(new Sentence { Text = t }).Embedding).Select((v, i) =>
                $"{label}\"{sentences[i]}\": {v.Length} dimensions, " + string.Join(" ", v.Take(4).Select(x => x.ToString("F4", CultureInfo.InvariantCulture))));
        }
        using var quantized = ml.Transforms.QuantizeWeights(embedding, Microsoft.ML.PaperExtensions.Quantization.QuantizationMethod.Rtn).Fit(texts);
        CollectionAssert.AreEqual(File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "expected-output.txt")),
            lines.Append(automl).Concat(Describe(embedding, "")).Concat(Describe(quantized, "4-bit ")).ToArray());
    }

    private sealed class Sentence
    {
        public string Text { get; set; } = "";
    }

    private sealed class Embedded
    {
        public float[] Embedding { get; set; } = [];
    }

    private sealed record Rating(string PROD, string DAY, string COLD)
    {
        public float SURENESS { get; init; }
    }

    private sealed class Prediction
    {
        public float[] Score { get; set; } = [];
    }
}
