using System.CommandLine;
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions;
using Microsoft.ML.PaperExtensions.Quantization;
using Microsoft.ML.PaperExtensions.Text;
using Microsoft.ML.PaperExtensions.TextEmbedding;

namespace PaperExtensions.Cli;

/// <summary><c>mlnet-papers quantize</c>: quantizes the encoder Linears of a pretrained model and measures what that costs.</summary>
internal static class QuantizeCommand
{
    public static Command Create()
    {
        var model = CliRunner.Required<string>("--model", "A Hugging Face folder, a folder with model.onnx and vocab.txt, an .onnx file (vocab.txt beside it), or a saved model zip (embedding or fine-tuned).");
        var calibration = CliRunner.Required<string>("--calibration", "CSV file of calibration texts with a header row (the first --samples rows fit, the next quarter as many measure the errors).");
        var text = CliRunner.Required<string>("--text", "The text column (of --calibration and --eval).");
        var defaults = new WeightQuantizationEstimator.Options();
        var method = new Option<string>("--method") { Description = "rtn, awq, gwq, adadim or flexround.", DefaultValueFactory = _ => "awq" };
        method.AcceptOnlyFromAmong("rtn", "awq", "gwq", "adadim", "flexround");
        var bits = new Option<int>("--bits") { Description = "2, 3, 4 or 8.", DefaultValueFactory = _ => defaults.Bits };
        bits.AcceptOnlyFromAmong("2", "3", "4", "8");
        var groupSize = new Option<int>("--group-size") { Description = "16, 32, 64, 128 or 256 weights per group, or 0 for one group per row.", DefaultValueFactory = _ => defaults.GroupSize };
        groupSize.AcceptOnlyFromAmong("0", "16", "32", "64", "128", "256");
        var samples = new Option<int>("--samples") { Description = "Calibration texts that fit the quantizers.", DefaultValueFactory = _ => defaults.CalibrationSamples };
        var maxLength = new Option<int>("--max-length") { Description = "Tokens per text including [CLS] and [SEP].", DefaultValueFactory = _ => 128 };
        var output = new Option<string?>("--out") { Description = "Write the quantized encoder as ONNX (input_ids, attention_mask, token_type_ids in; last_hidden_state out)." };
        var eval = new Option<string?>("--eval") { Description = "CSV of texts: mean cosine between full-precision and quantized sentence embeddings." };
        var label = new Option<string?>("--label") { Description = "With --eval: a class column; a logistic regression trained on full-precision embeddings of --calibration is scored with both." };
        var atLoad = new Option<bool>("--dequantize-at-load") { Description = "Keep 4-bit codes in the file but expand them to float32 weights when the model loads (float32 speed, float32 memory)." };
        var seed = CliRunner.SeedOption();
        var json = CliRunner.JsonOption();
        var command = new Command("quantize", "Quantize the weights of a pretrained BERT-family encoder (RTN, AWQ, GWQ, AdaDim, FlexRound) for ONNX Runtime's MatMulNBits.")
        {
            model, calibration, text, method, bits, groupSize, samples, maxLength, output, eval, label, atLoad, seed, json,
        };
        command.SetAction((parse, cancellation) =>
        {
            var progress = new ConsoleProgress();
            var textColumn = parse.GetValue(text)!;
            var labelColumn = parse.GetValue(label);
            var calibrationSource = CsvSource.Open(parse.GetValue(calibration)!);
            var evalSource = parse.GetValue(eval) is { } evalFile ? CsvSource.Open(evalFile) : null;
            if (labelColumn is not null && evalSource is null) throw new ArgumentException("--label needs --eval: the accuracy is measured on the --eval rows.");
            foreach (var source in new[] { calibrationSource, evalSource }.OfType<CsvSource>())
            {
                source.Column(textColumn, "--text");
                if (labelColumn is not null) source.Column(labelColumn, "--label");
            }
            if (parse.GetValue(output) is { } outPath) CliRunner.RefuseOverwrite(outPath, "--out", calibrationSource.Path);

            var ml = CliRunner.Context(parse.GetValue(seed));
            var columns = new[] { textColumn, labelColumn }.OfType<string>().Select(c => (c, DataKind.String)).ToList();
            var calibrationView = calibrationSource.Load(ml, columns);
            using var full = Load(ml, parse.GetValue(model)!, textColumn, parse.GetValue(maxLength), calibrationView);
            var outputs = full.GetOutputSchema(calibrationView.Schema);
            bool classifier = outputs.GetColumnOrNull("PredictedLabel") is not null;
            var options = new WeightQuantizationEstimator.Options
            {
                Method = Enum.Parse<QuantizationMethod>(parse.GetValue(method)!, ignoreCase: true),
                Bits = parse.GetValue(bits),
                GroupSize = parse.GetValue(groupSize),
                CalibrationSamples = parse.GetValue(samples),
                DequantizeAtLoad = parse.GetValue(atLoad),
                Seed = parse.GetValue(seed),
            };
            using var quantized = ml.Transforms.QuantizeWeights(full, options).Fit(calibrationView, cancellation, progress);
            if (parse.GetValue(output) is { } path)
            {
                using var file = File.Create(path);
                quantized.SaveEncoderAsOnnx(file);
            }

            var report = quantized.Report;
            var result = new Dictionary<string, object?>
            {
                ["method"] = report.Method.ToString(),
                ["bits"] = report.Bits,
                ["groupSize"] = report.GroupSize,
                ["bytesBefore"] = report.BytesBefore,
                ["bytesAfter"] = report.BytesAfter,
                ["modelBytesBefore"] = report.ModelBytesBefore,
                ["modelBytesAfter"] = report.ModelBytesAfter,
                ["bitsPerWeight"] = report.BitsPerWeight,
                ["calibrationTexts"] = report.CalibrationTexts,
                ["heldOutTexts"] = report.HeldOutTexts,
                ["seconds"] = report.Seconds,
                ["layers"] = report.Layers.Select(l => new { l.Layer, l.RelativeError, l.RtnRelativeError, l.AwqAlpha, l.GroupAxis, l.Outliers }).ToList(),
            };
            if (evalSource is not null)
            {
                var evalView = evalSource.Load(ml, columns);
                if (classifier)
                {
                    // A fine-tuned classifier: how often the quantized model predicts what the full-precision one does, and both accuracies.
                    var before = Predicted(full.Transform(evalView));
                    var after = Predicted(quantized.Transform(evalView));
                    result["agreement"] = before.Zip(after).Average(p => p.First == p.Second ? 1.0 : 0);
                    if (labelColumn is not null)
                    {
                        var truth = evalView.GetColumn<string>(labelColumn).ToArray();
                        result["accuracyFullPrecision"] = before.Zip(truth).Average(p => p.First == p.Second ? 1.0 : 0);
                        result["accuracy"] = after.Zip(truth).Average(p => p.First == p.Second ? 1.0 : 0);
                    }
                }
                else
                {
                    string vector = outputs.Last().Name;
                    var reference = full.Transform(evalView).GetColumn<float[]>(vector).ToList();
                    result["meanCosine"] = reference.Zip(quantized.Transform(evalView).GetColumn<float[]>(vector), Cosine).Average();
                    if (labelColumn is not null)
                    {
                        var logistic = ml.Transforms.Conversion.MapValueToKey(labelColumn)
                            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(labelColumn, vector))
                            .Fit(full.Transform(calibrationView));
                        result["accuracyFullPrecision"] = ml.MulticlassClassification.Evaluate(logistic.Transform(full.Transform(evalView)), labelColumn).MicroAccuracy;
                        result["accuracy"] = ml.MulticlassClassification.Evaluate(logistic.Transform(quantized.Transform(evalView)), labelColumn).MicroAccuracy;
                    }
                }
            }
            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(result);
            }
            else
            {
                Console.Out.WriteLine($"{report.Method} at {report.Bits} bits, group {report.GroupSize}: {report.Layers.Count} Linears, {report.BytesBefore / 1e6:F1} MB -> {report.BytesAfter / 1e6:F1} MB " +
                    $"({report.BitsPerWeight:F3} bits per weight); model {report.ModelBytesBefore / 1e6:F1} MB -> {report.ModelBytesAfter / 1e6:F1} MB; {report.Seconds:F1} s");
                Console.Out.WriteLine($"relative output error on held-out texts: mean {report.Layers.Average(l => l.RelativeError):F4} (RTN {report.Layers.Average(l => l.RtnRelativeError):F4}), " +
                    $"largest {report.Layers.Max(l => l.RelativeError):F4}");
                foreach (var key in new[] { "meanCosine", "agreement", "accuracyFullPrecision", "accuracy" }.Where(result.ContainsKey)) Console.Out.WriteLine($"{key}: {result[key]:F4}");
            }
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>A saved model zip rebuilt as the text model it holds, or a pretrained encoder as an embedding transform.</summary>
    private static TextModelTransformer Load(MLContext ml, string path, string textColumn, int maxLength, IDataView calibration)
    {
        if (!path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
            return ml.Transforms.Text.TransformerEmbedding(new TextEmbeddingEstimator.Options
            {
                InputColumnName = textColumn, OutputColumnName = "Embedding", ModelPath = path, MaxSequenceLength = maxLength, Device = Microsoft.ML.PaperExtensions.Runtime.ComputeDevice.Cpu,
            }).Fit(calibration);
        if (!File.Exists(path)) throw new FileNotFoundException($"--model: the model zip '{path}' does not exist.", path);
        ml.ComponentCatalog.RegisterAssembly(typeof(PretrainedEncoder).Assembly);
        return TextModelTransformer.FromLoaded(ml, ml.Model.Load(path, out _), calibration.Schema);
    }

    /// <summary>The predicted class names of a classifier's output.</summary>
    private static string[] Predicted(IDataView scored)
    {
        var names = default(VBuffer<ReadOnlyMemory<char>>);
        scored.Schema["PredictedLabel"].GetKeyValues(ref names);
        var classes = names.DenseValues().Select(v => v.ToString()).ToArray();
        return scored.GetColumn<uint>("PredictedLabel").Select(k => k == 0 ? "" : classes[k - 1]).ToArray();
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) (dot, na, nb) = (dot + a[i] * b[i], na + a[i] * a[i], nb + b[i] * b[i]);
        return dot / Math.Sqrt(na * nb);
    }
}
