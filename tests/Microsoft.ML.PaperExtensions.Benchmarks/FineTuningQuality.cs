using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.FineTuning;
using Microsoft.ML.PaperExtensions.Metrics;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.TestSupport;

namespace Microsoft.ML.PaperExtensions.Benchmarks;

/// <summary>
/// <c>./build.sh bench finetune-quality &lt;train.csv&gt; &lt;test.csv&gt; [seeds: 3 or 2-3] [methods]</c> (files with columns text, label):
/// all-MiniLM-L6-v2 fine-tuned by each method with the trainer's defaults (1 epoch, max length 128, rank 8, alpha 16,
/// dropout 0.1, query+value, AdamW 5e-4 with 10% warm-up, batch 16; Full at 5e-5), against ML.NET's FeaturizeText + SDCA
/// and the frozen MiniLM embedding + L-BFGS (logistic regression for two classes, maximum entropy for more). Prints one CSV
/// row per fit: method, seed, test accuracy, macro-F1, training seconds, training texts per second. A method may name SGD (momentum 0.9)
/// and a learning rate: <c>lora-sgd:0.01</c>.
/// </summary>
internal static class FineTuningQuality
{
    public static void Run(string trainFile, string testFile, IReadOnlyList<int> seeds, IReadOnlyList<string> methods)
    {
        TorchRuntime.EnsureInitialized();
        var ml = new MLContext(seed: 1);
        var train = ml.Data.Cache(TextData.Load(ml, trainFile));
        var test = ml.Data.Cache(TextData.Load(ml, testFile));
        var classes = train.GetColumn<string>("Label").Distinct().ToArray();
        var truth = test.GetColumn<string>("Label").Select(l => Array.IndexOf(classes, l)).ToArray();
        long rows = train.GetColumn<string>("Label").LongCount();
        Console.WriteLine("method,seed,accuracy,macroF1,trainSeconds,samplesPerSecond");
        foreach (var name in methods)
        {
            foreach (var seed in seeds)
            {
                var context = new MLContext(seed: seed);
                var watch = Stopwatch.StartNew();
                ITransformer model;
                if (name is "featurizetext-sdca" or "frozen-embedding-lbfgs")
                {
                    var features = name == "featurizetext-sdca"
                        ? context.Transforms.Text.FeaturizeText("Features", "Text")
                        : (IEstimator<ITransformer>)context.Transforms.Text.TransformerEmbedding("Features", "Text", PretrainedModels.MiniLmFolder, maxSequenceLength: 128);
                    IEstimator<ITransformer> learner = (name, classes.Length) switch
                    {
                        ("featurizetext-sdca", 2) => context.BinaryClassification.Trainers.SdcaLogisticRegression("Target", "Features"),
                        (_, 2) => context.BinaryClassification.Trainers.LbfgsLogisticRegression("Target", "Features"),
                        ("featurizetext-sdca", _) => context.MulticlassClassification.Trainers.SdcaMaximumEntropy("Key", "Features"),
                        _ => context.MulticlassClassification.Trainers.LbfgsMaximumEntropy("Key", "Features"),
                    };
                    var target = classes.Length == 2
                        ? (IEstimator<ITransformer>)context.Transforms.Conversion.MapValue("Target", classes.Select((c, i) => new KeyValuePair<string, bool>(c, i == 1)), "Label")
                        : context.Transforms.Conversion.MapValueToKey("Key", "Label", keyData: context.Data.LoadFromEnumerable(classes.Select(c => new ClassName { Name = c })));
                    model = features.Append(target).Append(learner).Fit(train);
                }
                else
                {
                    // "lora", "lora-sgd" (SGD with momentum 0.9 instead of AdamW), either with ":<learning rate>" to override the default.
                    var parts = name.Split(':');
                    bool sgd = parts[0].EndsWith("-sgd", StringComparison.OrdinalIgnoreCase);
                    var method = Enum.Parse<FineTuningMethod>(sgd ? parts[0][..^4] : parts[0], ignoreCase: true);
                    var options = new TextFineTuningTrainer.Options
                    {
                        ModelPath = PretrainedModels.MiniLmFolder, LabelColumnName = "Key", Method = method, Seed = seed,
                        Optimizer = sgd ? FineTuningOptimizer.Sgd : FineTuningOptimizer.AdamW,
                        LearningRate = parts.Length > 1 ? double.Parse(parts[1], CultureInfo.InvariantCulture) : method == FineTuningMethod.Full ? 5e-5 : 5e-4,
                    };
                    model = context.Transforms.Conversion.MapValueToKey("Key", "Label", keyData: context.Data.LoadFromEnumerable(classes.Select(c => new ClassName { Name = c })))
                        .Append(context.MulticlassClassification.Trainers.FineTuneText(options)).Fit(train);
                }
                double seconds = watch.Elapsed.TotalSeconds;
                var scored = model.Transform(test);
                int[] predicted = scored.Schema.GetColumnOrNull("PredictedLabel")?.Type is Microsoft.ML.Data.BooleanDataViewType
                    ? scored.GetColumn<bool>("PredictedLabel").Select(p => p ? 1 : 0).ToArray()
                    : scored.GetColumn<uint>("PredictedLabel").Select(k => (int)k - 1).ToArray();
                double accuracy = predicted.Zip(truth, (p, t) => p == t ? 1.0 : 0).Average();
                Console.WriteLine(string.Join(',', name, seed, accuracy.ToString("F4", CultureInfo.InvariantCulture),
                    ClassificationMetrics.MacroF1(truth, predicted, classes.Length).ToString("F4", CultureInfo.InvariantCulture),
                    seconds.ToString("F1", CultureInfo.InvariantCulture), (rows / seconds).ToString("F2", CultureInfo.InvariantCulture)));
                (model as IDisposable)?.Dispose();
            }
        }
    }

    private sealed class ClassName
    {
        public string Name { get; set; } = "";
    }
}
