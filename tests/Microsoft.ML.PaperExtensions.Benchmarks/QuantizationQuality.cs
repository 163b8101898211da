using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.FineTuning;
using Microsoft.ML.PaperExtensions.Quantization;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.TestSupport;
using Microsoft.ML.PaperExtensions.Text;
using Microsoft.ML.PaperExtensions.TextEmbedding;

namespace Microsoft.ML.PaperExtensions.Benchmarks;

/// <summary>
/// <c>./build.sh bench quantize-quality &lt;train.csv&gt; &lt;test.csv&gt; [methods] [bits] [group] [finetuned]</c> (columns text, label):
/// all-MiniLM-L6-v2 (max length 128) quantized by each method with 128 calibration texts from the first rows of train (the
/// next 32 held out for the layer errors). Per run: mean (and 5th percentile) cosine of quantized vs full-precision sentence
/// embeddings of every test text, the test accuracy of an L-BFGS logistic regression trained on full-precision embeddings of
/// the train texts and fed quantized ones, bytes, bits per weight and seconds. With <c>finetuned</c>, a LoRA classifier (the
/// trainer's defaults, seed 1, trained on train) is quantized instead, and its test accuracy reported before and after.
/// </summary>
internal static class QuantizationQuality
{
    private sealed class Embedded
    {
        public float[] Embedding { get; set; } = [];
    }

    private sealed class Labelled
    {
        public float[] Embedding { get; set; } = [];
        public string Label { get; set; } = "";
    }

    public static void Run(string trainFile, string testFile, IReadOnlyList<QuantizationMethod> methods, IReadOnlyList<int> bitWidths, int groupSize, bool fineTuned)
    {
        TorchRuntime.EnsureInitialized();
        var ml = new MLContext(seed: 1);
        var train = ml.Data.Cache(TextData.Load(ml, trainFile));
        var test = ml.Data.Cache(TextData.Load(ml, testFile));
        Console.WriteLine("model,method,bits,group,meanCosine,p05Cosine,accuracy,accuracyFullPrecision,bytesBefore,bytesAfter,bitsPerWeight,meanLayerError,meanRtnLayerError,seconds");
        if (fineTuned) FineTuned(ml, train, test, methods, bitWidths, groupSize);
        else EmbeddingModels(ml, train, test, methods, bitWidths, groupSize);
    }

    private static void EmbeddingModels(MLContext ml, IDataView train, IDataView test, IReadOnlyList<QuantizationMethod> methods, IReadOnlyList<int> bitWidths, int groupSize)
    {
        var watch = Stopwatch.StartNew();
        using var full = ml.Transforms.Text.TransformerEmbedding(new TextEmbeddingEstimator.Options
        {
            ModelPath = PretrainedModels.MiniLmFolder, MaxSequenceLength = 128, Device = ComputeDevice.Cpu,
        }).Fit(train);
        var classifier = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("Label", "Embedding")).Fit(ml.Data.Cache(full.Transform(train)));
        var reference = Embeddings(ml, full.Transform(test));
        var labels = test.GetColumn<string>("Label").ToArray();
        // The classifier scores the vectors already computed: each model embeds the test texts once.
        double Accuracy(List<float[]> vectors)
        {
            var schema = SchemaDefinition.Create(typeof(Labelled));
            schema["Embedding"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, vectors[0].Length);
            var rows = ml.Data.LoadFromEnumerable(vectors.Zip(labels, (v, l) => new Labelled { Embedding = v, Label = l }), schema);
            return ml.MulticlassClassification.Evaluate(classifier.Transform(rows)).MicroAccuracy;
        }
        Console.Error.WriteLine($"full precision: embeddings and classifier in {watch.Elapsed.TotalSeconds:F0} s");
        double fullAccuracy = Accuracy(reference);
        foreach (var bits in bitWidths)
            foreach (var method in methods)
            {
                using var quantized = ml.Transforms.QuantizeWeights(full, new WeightQuantizationEstimator.Options { Method = method, Bits = bits, GroupSize = groupSize, Seed = 1 }).Fit(train);
                var vectors = Embeddings(ml, quantized.Transform(test));
                var cosines = reference.Zip(vectors, TextData.Cosine).Order().ToArray();
                Print("embedding", quantized.Report, cosines.Average().ToString("F4", CultureInfo.InvariantCulture), cosines[cosines.Length / 20].ToString("F4", CultureInfo.InvariantCulture),
                    Accuracy(vectors), fullAccuracy);
            }
    }

    private static void FineTuned(MLContext ml, IDataView train, IDataView test, IReadOnlyList<QuantizationMethod> methods, IReadOnlyList<int> bitWidths, int groupSize)
    {
        using var tuned = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.FineTuneText(new TextFineTuningTrainer.Options
        {
            ModelPath = PretrainedModels.MiniLmFolder, LabelColumnName = "Label", Seed = 1,
        })).Fit(train);
        var keyed = tuned.First().Transform(test);
        var lora = (TextFineTuningTransformer)tuned.LastTransformer;
        double loraAccuracy = ml.MulticlassClassification.Evaluate(lora.Transform(keyed)).MicroAccuracy;
        foreach (var bits in bitWidths)
            foreach (var method in methods)
            {
                using var quantized = ml.Transforms.QuantizeWeights(lora, new WeightQuantizationEstimator.Options { Method = method, Bits = bits, GroupSize = groupSize, Seed = 1 })
                    .Fit(tuned.First().Transform(train));
                Print("lora-classifier", quantized.Report, "", "", ml.MulticlassClassification.Evaluate(quantized.Transform(keyed)).MicroAccuracy, loraAccuracy);
            }
    }

    private static void Print(string model, WeightQuantizationReport r, string meanCosine, string p05, double accuracy, double fullAccuracy)
    {
        string F(double v, string format = "F4") => v.ToString(format, CultureInfo.InvariantCulture);
        Console.WriteLine(string.Join(',', model, r.Method, r.Bits, r.GroupSize, meanCosine, p05, F(accuracy), F(fullAccuracy), r.BytesBefore, r.BytesAfter, F(r.BitsPerWeight, "F3"),
            F(r.Layers.Average(l => l.RelativeError)), F(r.Layers.Average(l => l.RtnRelativeError)), F(r.Seconds, "F1")));
    }

    private static List<float[]> Embeddings(MLContext ml, IDataView scored) => ml.Data.CreateEnumerable<Embedded>(scored, false).Select(r => r.Embedding).ToList();
}
