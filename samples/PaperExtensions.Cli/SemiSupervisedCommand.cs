using System.CommandLine;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions;
using Microsoft.ML.PaperExtensions.Metrics;
using Microsoft.ML.PaperExtensions.SemiSupervised;
using Spectre.Console;

namespace PaperExtensions.Cli;

/// <summary><c>mlnet-papers semisupervised</c>: WAD or a baseline on a CSV file whose unlabelled rows have an empty label.</summary>
internal static class SemiSupervisedCommand
{
    private sealed class NumericRow
    {
        public float Label { get; set; }
        public float[] Features { get; set; } = [];
    }

    private sealed class TextRow
    {
        public string Label { get; set; } = "";
        public float[] Features { get; set; } = [];
    }

    public static Command Create()
    {
        var train = CliRunner.Required<string>("--train", "CSV file with a header row; rows with an empty label are unlabelled.");
        var label = CliRunner.Required<string>("--label", "The class column. Numbers are classes in numeric order, other text in ordinal order.");
        var test = new Option<string?>("--test") { Description = "CSV file of labelled rows to score (accuracy and macro-F1 over the known classes)." };
        var features = new Option<string?>("--features") { Description = "Comma-separated numeric feature columns; default: every other column that is numeric in all rows." };
        var method = new Option<string>("--method") { Description = "wad, or a baseline: supervised, pseudolabel, selftraining.", DefaultValueFactory = _ => "wad" };
        method.AcceptOnlyFromAmong("wad", "supervised", "pseudolabel", "selftraining");
        var seed = new Option<int>("--seed") { Description = "Seed of initialisation, batches and corruption.", DefaultValueFactory = _ => 1 };
        var device = CliRunner.DeviceOption();
        var json = CliRunner.JsonOption();
        var command = new Command("semisupervised", "Train WAD (semi-supervised, robust to unknown classes among the unlabelled rows) from a CSV file.")
        {
            train, label, test, features, method, seed, device, json,
        };
        command.SetAction((parse, cancellation) =>
        {
            var progress = new ConsoleProgress();
            var table = CsvTable.Load(parse.GetValue(train)!, progress, cancellation);
            var labelName = parse.GetValue(label)!;
            table.Column(labelName, "--label");
            var featureNames = parse.GetValue(features) is { } f ? table.Columns(f, "--features") : NumericColumns(table, labelName);
            if (featureNames.Count == 0) throw new ArgumentException($"{table.Source} has no numeric column besides --label '{labelName}'; name them with --features.");
            var labels = table.Text(labelName, "--label");
            var numeric = labels.Where(l => l.Length > 0).All(l => double.TryParse(l, NumberStyles.Float, CultureInfo.InvariantCulture, out _));

            // The test file is read and checked before training, so that a mistake in it does not cost a whole fit.
            string[]? truth = null;
            float[][]? testFeatures = null;
            if (parse.GetValue(test) is { } testFile)
            {
                var testTable = CsvTable.Load(testFile, progress, cancellation);
                truth = testTable.Text(labelName, "--label");
                var empty = Array.FindIndex(truth, t => t.Length == 0);
                if (empty >= 0) throw new FormatException($"{testTable.Source}, data row {empty + 1}: the --test rows need a label.");
                testFeatures = Features(testTable, featureNames);
            }

            var ml = new MLContext(seed: parse.GetValue(seed));
            var options = new WadTrainer.Options
            {
                Method = parse.GetValue(method) switch
                {
                    "supervised" => SemiSupervisedMethod.SupervisedOnly,
                    "pseudolabel" => SemiSupervisedMethod.PseudoLabel,
                    "selftraining" => SemiSupervisedMethod.SelfTraining,
                    _ => SemiSupervisedMethod.Wad,
                },
                Seed = parse.GetValue(seed),
                Device = CliRunner.Device(parse, device),
            };
            using var model = ml.SemiSupervised().Trainers.Wad(options).Fit(Load(ml, Features(table, featureNames), labels, numeric), cancellation, progress);
            var m = model.Model;

            double? accuracy = null, macroF1 = null;
            int? testRows = null, unknownTestRows = null;
            if (truth is not null)
            {
                var predicted = model.Transform(Load(ml, testFeatures!, truth.Select(_ => "").ToArray(), numeric))
                    .GetColumn<uint>(ColumnNames.PredictedLabel).Select(k => (int)k - 1).ToArray();
                var truthIndex = truth.Select(t => ClassIndex(m.ClassNames, t, numeric)).ToArray();
                var known = Enumerable.Range(0, truth.Length).Where(i => truthIndex[i] >= 0).ToArray();
                testRows = known.Length;
                unknownTestRows = truth.Length - known.Length;
                if (known.Length > 0)
                {
                    accuracy = ClassificationMetrics.Accuracy(known.Select(i => truthIndex[i]).ToArray(), known.Select(i => predicted[i]).ToArray());
                    macroF1 = ClassificationMetrics.MacroF1(known.Select(i => truthIndex[i]).ToArray(), known.Select(i => predicted[i]).ToArray(), m.ClassNames.Count);
                }
            }

            var report = new
            {
                Method = parse.GetValue(method),
                Labeled = m.LabeledRowCount,
                Unlabeled = m.UnlabeledRowCount,
                Classes = m.ClassNames,
                Features = featureNames,
                MeanUnlabeledWeight = m.MeanUnlabeledWeight,
                Promoted = m.UnlabeledRows.Count(r => r.PromotedInRound > 0),
                Accuracy = accuracy,
                MacroF1 = macroF1,
                TestRows = testRows,
                TestRowsOfUnknownClasses = unknownTestRows,
                Notes = m.Notes,
            };
            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(report);
                return Task.FromResult(0);
            }
            AnsiConsole.MarkupLine($"{Markup.Escape(parse.GetValue(method)!)} on {m.LabeledRowCount} labelled and {m.UnlabeledRowCount} unlabelled rows, " +
                                   $"{featureNames.Count} features, known classes {Markup.Escape(string.Join(", ", m.ClassNames))}");
            AnsiConsole.MarkupLine($"mean weight of the unlabelled rows {m.MeanUnlabeledWeight:F3}, promoted {report.Promoted}");
            if (accuracy is not null)
            {
                AnsiConsole.MarkupLine($"test: {testRows} rows of known classes, accuracy {accuracy:F4}, macro-F1 {macroF1:F4}" +
                                       (unknownTestRows > 0 ? $" ({unknownTestRows} rows of other classes not scored)" : ""));
            }
            foreach (var note in m.Notes) AnsiConsole.MarkupLine($"note: {Markup.Escape(note)}");
            return Task.FromResult(0);
        });
        return command;
    }

    private static IReadOnlyList<string> NumericColumns(CsvTable table, string labelName) =>
        table.Header.Where(h => h != labelName && table.Text(h, "--features").All(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _))).ToList();

    private static float[][] Features(CsvTable table, IReadOnlyList<string> names)
    {
        var columns = names.Select(n => table.Numbers(n, "--features")).ToArray();
        return Enumerable.Range(0, table.RowCount).Select(r => columns.Select(c => (float)c[r]).ToArray()).ToArray();
    }

    private static int ClassIndex(IReadOnlyList<string> classNames, string label, bool numeric)
    {
        for (var k = 0; k < classNames.Count; k++)
        {
            var same = numeric
                ? double.TryParse(label, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v == double.Parse(classNames[k], CultureInfo.InvariantCulture)
                : label == classNames[k];
            if (same) return k;
        }
        return -1;
    }

    /// <summary>A Features vector and a Label: Single with NaN for empty labels when the labels are numbers, else text.</summary>
    private static IDataView Load(MLContext ml, float[][] features, string[] labels, bool numeric)
    {
        var width = features.Length == 0 ? 0 : features[0].Length;
        if (numeric)
        {
            var schema = SchemaDefinition.Create(typeof(NumericRow));
            schema[nameof(NumericRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
            return ml.Data.LoadFromEnumerable(features.Select((x, i) => new NumericRow
            {
                Features = x,
                Label = labels[i].Length == 0 ? float.NaN : float.Parse(labels[i], CultureInfo.InvariantCulture),
            }).ToList(), schema);
        }
        var textSchema = SchemaDefinition.Create(typeof(TextRow));
        textSchema[nameof(TextRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        return ml.Data.LoadFromEnumerable(features.Select((x, i) => new TextRow { Features = x, Label = labels[i] }).ToList(), textSchema);
    }
}
