using System.CommandLine;
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions;
using Microsoft.ML.PaperExtensions.FineTuning;
using Microsoft.ML.PaperExtensions.Metrics;

namespace PaperExtensions.Cli;

/// <summary><c>mlnet-papers finetune</c>: fine-tunes a pretrained encoder on a CSV of labelled texts (LoRA-family adapters or full).</summary>
internal static class FineTuneCommand
{
    public static Command Create()
    {
        var model = CliRunner.Required<string>("--model", "A Hugging Face folder, a folder with model.onnx and vocab.txt, or an .onnx file (vocab.txt beside it).");
        var train = CliRunner.Required<string>("--train", "CSV file of labelled texts with a header row.");
        var test = new Option<string?>("--test") { Description = "CSV file to score: accuracy and macro-F1, or RMSE and R^2." };
        var text = CliRunner.Required<string>("--text", "The text column.");
        var text2 = new Option<string?>("--text2") { Description = "The second text of sentence pairs." };
        var label = CliRunner.Required<string>("--label", "The label column: classes (any text) or, with --task regression, numbers.");
        var task = new Option<string>("--task") { Description = "classification or regression.", DefaultValueFactory = _ => "classification" };
        task.AcceptOnlyFromAmong("classification", "regression");
        var method = new Option<string>("--method") { Description = "lora, rslora, dora, allora or full.", DefaultValueFactory = _ => "lora" };
        method.AcceptOnlyFromAmong("lora", "rslora", "dora", "allora", "full");
        var defaults = new TextFineTuningTrainer.Options();
        var rank = new Option<int>("--rank") { Description = "Adapter rank r.", DefaultValueFactory = _ => defaults.Rank };
        var alpha = new Option<double>("--alpha") { Description = "LoRA alpha.", DefaultValueFactory = _ => defaults.Alpha };
        var dropout = new Option<double>("--dropout") { Description = "Adapter dropout.", DefaultValueFactory = _ => defaults.Dropout };
        var eta = new Option<double>("--eta") { Description = "ALLoRA eta.", DefaultValueFactory = _ => defaults.Eta };
        var targets = new Option<string>("--targets") { Description = "Comma-separated Linears to adapt: query, key, value, dense.", DefaultValueFactory = _ => string.Join(',', defaults.TargetModules) };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training texts.", DefaultValueFactory = _ => defaults.Epochs };
        var batchSize = new Option<int>("--batch-size") { Description = "Texts per step.", DefaultValueFactory = _ => defaults.BatchSize };
        var learningRate = new Option<double>("--learning-rate") { Description = "Peak learning rate.", DefaultValueFactory = _ => defaults.LearningRate };
        var maxLength = new Option<int>("--max-length") { Description = "Tokens per text including [CLS] and [SEP].", DefaultValueFactory = _ => defaults.MaxSequenceLength };
        var saveAdapter = new Option<string?>("--save-adapter") { Description = "Write the adapter and head here in Hugging Face PEFT's format." };
        var saveModel = new Option<string?>("--save-model") { Description = "Write the ML.NET model zip here." };
        var seed = CliRunner.SeedOption();
        var device = CliRunner.DeviceOption();
        var json = CliRunner.JsonOption();
        var command = new Command("finetune", "Fine-tune a pretrained BERT-family encoder on labelled texts with LoRA, rsLoRA, DoRA, ALLoRA or fully.")
        {
            model, train, test, text, text2, label, task, method, rank, alpha, dropout, eta, targets, epochs, batchSize, learningRate, maxLength,
            saveAdapter, saveModel, seed, device, json,
        };
        command.SetAction((parse, cancellation) =>
        {
            var progress = new ConsoleProgress();
            bool regression = parse.GetValue(task) == "regression";
            var labelName = parse.GetValue(label)!;
            var textColumns = new[] { parse.GetValue(text)!, parse.GetValue(text2) }.OfType<string>().ToList();
            var trainSource = CsvSource.Open(parse.GetValue(train)!);
            var testSource = parse.GetValue(test) is { } testFile ? CsvSource.Open(testFile) : null;
            foreach (var source in new[] { trainSource, testSource }.OfType<CsvSource>())
            {
                source.Column(labelName, "--label");
                source.Column(textColumns[0], "--text");
                if (textColumns.Count > 1) source.Column(textColumns[1], "--text2");
            }
            if (parse.GetValue(saveModel) is { } zipPath) CliRunner.RefuseOverwrite(zipPath, "--save-model", trainSource.Path);
            var columns = textColumns.Select(c => (c, DataKind.String)).Append((labelName, regression ? DataKind.Single : DataKind.String)).ToList();
            var ml = CliRunner.Context(parse.GetValue(seed));
            var trainView = trainSource.Load(ml, columns);
            var testView = testSource?.Load(ml, columns);

            var options = new TextFineTuningTrainer.Options
            {
                ModelPath = parse.GetValue(model)!,
                TextColumnName = textColumns[0],
                SecondTextColumnName = textColumns.Count > 1 ? textColumns[1] : null,
                LabelColumnName = labelName,
                Method = Enum.Parse<FineTuningMethod>(parse.GetValue(method)!, ignoreCase: true),
                Rank = parse.GetValue(rank),
                Alpha = parse.GetValue(alpha),
                Dropout = parse.GetValue(dropout),
                Eta = parse.GetValue(eta),
                TargetModules = parse.GetValue(targets)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                Epochs = parse.GetValue(epochs),
                BatchSize = parse.GetValue(batchSize),
                LearningRate = parse.GetValue(learningRate),
                MaxSequenceLength = parse.GetValue(maxLength),
                Seed = parse.GetValue(seed),
                Device = CliRunner.Device(parse, device),
            };
            IEstimator<ITransformer> pipeline = regression
                ? ml.Regression.Trainers.FineTuneText(options)
                : ml.Transforms.Conversion.MapValueToKey(labelName).Append(ml.MulticlassClassification.Trainers.FineTuneText(options));
            var peak = Process.GetCurrentProcess();
            var fitted = pipeline.Fit(trainView, cancellation, progress);
            var tuned = fitted as TextFineTuningTransformer ?? (TextFineTuningTransformer)((IEnumerable<ITransformer>)fitted).Last();
            if (parse.GetValue(saveAdapter) is { } adapterFolder) tuned.SaveAdapter(adapterFolder);
            if (parse.GetValue(saveModel) is { } zip) ml.Model.Save(fitted, trainView.Schema, zip);

            var report = tuned.Report;
            peak.Refresh();
            var result = new Dictionary<string, object?>
            {
                ["method"] = report.Method.ToString(),
                ["rows"] = report.Rows,
                ["classes"] = report.ClassNames,
                ["trainSeconds"] = report.Seconds,
                ["samplesPerSecond"] = report.SamplesPerSecond,
                ["trainableParameters"] = report.TrainableParameters,
                ["totalParameters"] = report.TotalParameters,
                ["peakMemoryMb"] = peak.PeakWorkingSet64 / (1024.0 * 1024.0),
                ["epochLosses"] = report.EpochLosses,
            };
            if (testView is not null)
            {
                var scored = fitted.Transform(testView);
                if (regression)
                {
                    var metrics = ml.Regression.Evaluate(scored, labelName);
                    result["rmse"] = metrics.RootMeanSquaredError;
                    result["r2"] = metrics.RSquared;
                }
                else
                {
                    // Test rows whose label the training data lacks have the missing key: counted, not scored.
                    var labels = scored.GetColumn<uint>(labelName).ToArray();
                    var predicted = scored.GetColumn<uint>("PredictedLabel").ToArray();
                    var known = Enumerable.Range(0, labels.Length).Where(i => labels[i] > 0).ToArray();
                    result["accuracy"] = known.Count(i => labels[i] == predicted[i]) / (double)known.Length;
                    result["macroF1"] = ClassificationMetrics.MacroF1(known.Select(i => (int)labels[i] - 1).ToArray(), known.Select(i => (int)predicted[i] - 1).ToArray(), report.ClassNames.Count);
                    result["testRowsOfUnknownClasses"] = labels.Length - known.Length;
                }
            }
            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(result);
            }
            else
            {
                Console.Out.WriteLine($"{report.Method} on {report.Rows} texts: {report.Steps} steps in {report.Seconds:F1} s ({report.SamplesPerSecond:F1} texts/s), " +
                    $"{report.TrainableParameters:N0} of {report.TotalParameters:N0} parameters trained; loss by epoch {string.Join(", ", report.EpochLosses.Select(l => l.ToString("F4")))}");
                foreach (var key in new[] { "accuracy", "macroF1", "rmse", "r2" }.Where(result.ContainsKey)) Console.Out.WriteLine($"test {key}: {result[key]:F4}");
            }
            return Task.FromResult(0);
        });
        return command;
    }
}
