// A console app that uses Microsoft.ML.PaperExtensions as a user would: from its NuGet packages alone.
// It fits PRESTO on soup.csv, saves the model zip, loads it in a fresh MLContext and predicts with a PredictionEngine.
//   ./build.sh pack && dotnet run --project samples/PaperExtensions.Consume -- samples/data/soup.csv
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions;
using Microsoft.ML.PaperExtensions.Ordinal;

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
