using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.FineTuning;
using Microsoft.ML.PaperExtensions.Metrics;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.TestSupport;

namespace Microsoft.ML.PaperExtensions.Benchmarks;

/// <summary>
/// <c>./build.sh bench finetune-quality &lt;folder with fine_foods_train.csv and fine_foods_test.csv&gt; [seeds: 3 or 2-3] [methods]</c>:
/// all-MiniLM-L6-v2 fine-tuned on the fine-food reviews (great vs other) with each method and the trainer's defaults
/// (1 epoch, max length 128, rank 8, alpha 16, dropout 0.1, query+value, AdamW 5e-4 with 10% warm-up, batch 16; Full at
/// 5e-5), against ML.NET's FeaturizeText + SDCA logistic regression and the frozen MiniLM embedding + L-BFGS logistic
/// regression. Prints one CSV row per fit: method, seed, test accuracy, macro-F1, training seconds, samples/s.
/// </summary>
internal static class FineTuningQuality
{
    private sealed class Review
    {
        public string Text { get; set; } = "";
        public string Label { get; set; } = "";
    }

    public static void Run(string folder, IReadOnlyList<int> seeds, IReadOnlyList<string> methods)
    {
        TorchRuntime.EnsureInitialized();
        var ml = new MLContext(seed: 1);
        IDataView Load(string file) => ml.Data.CreateTextLoader(new TextLoader.Options
        {
            Separators = [','], HasHeader = true, AllowQuoting = true,
            Columns = [new TextLoader.Column("Text", DataKind.String, 0), new TextLoader.Column("Label", DataKind.String, 1)],
        }).Load(Path.Combine(folder, file));
        var train = ml.Data.Cache(Load("fine_foods_train.csv"));
        var test = ml.Data.Cache(Load("fine_foods_test.csv"));
        var truth = test.GetColumn<string>("Label").Select(l => l == "great" ? 1 : 0).ToArray();
        Console.WriteLine("method,seed,accuracy,macroF1,trainSeconds,samplesPerSecond");
        void Report(string method, int seed, int[] predicted, double seconds)
        {
            double accuracy = predicted.Zip(truth, (p, t) => p == t ? 1.0 : 0).Average();
            Console.WriteLine(string.Join(',', method, seed, accuracy.ToString("F4", CultureInfo.InvariantCulture),
                ClassificationMetrics.MacroF1(truth, predicted, 2).ToString("F4", CultureInfo.InvariantCulture), seconds.ToString("F1", CultureInfo.InvariantCulture),
                (4000 / seconds).ToString("F2", CultureInfo.InvariantCulture)));
        }

        foreach (var name in methods)
        {
            foreach (var seed in seeds)
            {
                var watch = Stopwatch.StartNew();
                ITransformer model;
                int[] predicted;
                if (name == "featurizetext-sdca")
                {
                    var context = new MLContext(seed: seed);
                    model = context.Transforms.Text.FeaturizeText("Features", "Text")
                        .Append(context.Transforms.Conversion.MapValue("Target", [new KeyValuePair<string, bool>("great", true), new("other", false)], "Label"))
                        .Append(context.BinaryClassification.Trainers.SdcaLogisticRegression("Target", "Features")).Fit(train);
                    predicted = model.Transform(test).GetColumn<bool>("PredictedLabel").Select(p => p ? 1 : 0).ToArray();
                }
                else if (name == "frozen-embedding-lbfgs")
                {
                    var context = new MLContext(seed: seed);
                    model = context.Transforms.Text.TransformerEmbedding("Features", "Text", PretrainedModels.MiniLmFolder, maxSequenceLength: 128)
                        .Append(context.Transforms.Conversion.MapValue("Target", [new KeyValuePair<string, bool>("great", true), new("other", false)], "Label"))
                        .Append(context.BinaryClassification.Trainers.LbfgsLogisticRegression("Target", "Features")).Fit(train);
                    predicted = model.Transform(test).GetColumn<bool>("PredictedLabel").Select(p => p ? 1 : 0).ToArray();
                }
                else
                {
                    var method = Enum.Parse<FineTuningMethod>(name, ignoreCase: true);
                    var options = new TextFineTuningTrainer.Options
                    {
                        ModelPath = PretrainedModels.MiniLmFolder, LabelColumnName = "Key", Method = method, Seed = seed,
                        LearningRate = method == FineTuningMethod.Full ? 5e-5 : 5e-4,
                    };
                    model = ml.Transforms.Conversion.MapValueToKey("Key", "Label").Append(ml.MulticlassClassification.Trainers.FineTuneText(options)).Fit(train);
                    var classes = ((TextFineTuningTransformer)((IEnumerable<ITransformer>)model).Last()).Report.ClassNames;
                    predicted = model.Transform(test).GetColumn<uint>("PredictedLabel").Select(k => classes[(int)k - 1] == "great" ? 1 : 0).ToArray();
                }
                Report(name, seed, predicted, watch.Elapsed.TotalSeconds);
                (model as IDisposable)?.Dispose();
            }
        }
    }
}
