using System.CommandLine;
using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions;
using Microsoft.ML.PaperExtensions.Ordinal;
using Spectre.Console;

namespace PaperExtensions.Cli;

/// <summary><c>mlnet-papers ordinal</c>: fits PRESTO on a CSV file, optionally predicts another.</summary>
internal static class OrdinalCommand
{
    private sealed class Row
    {
        public float[] Features { get; set; } = [];

        public float Label { get; set; }
    }

    public static Command Create()
    {
        var data = CliRunner.Required<string>("--data", "CSV file with a header row.");
        var label = CliRunner.Required<string>("--label", "The ordered class column. Numbers are ordered numerically; text by first appearance unless --classes is given.");
        var features = new Option<string?>("--features") { Description = "Comma-separated numeric feature columns." };
        var categorical = new Option<string?>("--categorical") { Description = "Comma-separated categorical columns, treatment-coded (first level = reference; numeric levels sorted, text by first appearance)." };
        var lambda = new Option<double?>("--lambda") { Description = "The penalty strength; without it, lambda is chosen by cross-validation." };
        var folds = new Option<int>("--cv-folds") { Description = "Cross-validation folds.", DefaultValueFactory = _ => 5 };
        var nLambda = new Option<int>("--n-lambda") { Description = "Lambda values on the path.", DefaultValueFactory = _ => 20 };
        var penalizeFirst = new Option<bool>("--penalize-first") { Description = "Penalise the first weight vector too (true, as the authors' final code).", DefaultValueFactory = _ => true };
        var rare = new Option<string>("--rare") { Description = "Which end class is rare: last or first.", DefaultValueFactory = _ => "last" };
        rare.AcceptOnlyFromAmong("last", "first");
        var classes = new Option<string?>("--classes") { Description = "Comma-separated class order for a text label." };
        var predict = new Option<string?>("--predict") { Description = "CSV file to predict (it may contain the label column, which is ignored)." };
        var output = new Option<string?>("--out") { Description = "Where --predict writes one row per input row: p_<class> columns in class order." };
        var seed = new Option<int>("--seed") { Description = "Seed of the cross-validation folds.", DefaultValueFactory = _ => 1 };
        var device = CliRunner.DeviceOption();
        var json = CliRunner.JsonOption();
        var command = new Command("ordinal", "Fit PRESTO (an ordinal model for the rare end class) from a CSV file.")
        {
            data, label, features, categorical, lambda, folds, nLambda, penalizeFirst, rare, classes, predict, output, seed, device, json,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(features) is null && result.GetValue(categorical) is null) result.AddError("--features or --categorical must name at least one column.");
            if ((result.GetValue(predict) is null) != (result.GetValue(output) is null)) result.AddError("--predict and --out go together.");
            if (result.GetResult(lambda) is not null && result.GetResult(folds) is { Implicit: false }) result.AddError("--lambda and --cv-folds exclude each other.");
        });
        command.SetAction((parse, cancellation) =>
        {
            var progress = new ConsoleProgress();
            var table = CsvTable.Load(parse.GetValue(data)!, progress, cancellation);
            var numeric = parse.GetValue(features) is { } f ? table.Columns(f, "--features") : [];
            var factors = parse.GetValue(categorical) is { } c ? table.Columns(c, "--categorical") : [];
            var design = DesignMatrix.Fit(table, numeric, factors);
            var labelName = parse.GetValue(label)!;
            var (labels, classNames) = Labels(table, labelName, parse.GetValue(classes));

            // The file to predict is read and coded before training, so that a mistake in it does not cost a whole fit.
            var toPredict = parse.GetValue(predict) is { } predictFile ? design.Rows(CsvTable.Load(predictFile, progress, cancellation)) : null;

            var ml = new MLContext(seed: parse.GetValue(seed));
            var view = Load(ml, design.Rows(table), labels, classNames);
            var options = new PrestoTrainer.Options
            {
                Lambda = parse.GetValue(lambda),
                NumberOfFolds = parse.GetValue(folds),
                NumberOfLambdas = parse.GetValue(nLambda),
                PenalizeFirstVector = parse.GetValue(penalizeFirst),
                RareClass = parse.GetValue(rare) == "first" ? RareClassPosition.First : RareClassPosition.Last,
                Seed = parse.GetValue(seed),
                Device = CliRunner.Device(parse, device),
            };
            using var model = ml.Ordinal().Trainers.Presto(options).Fit(view, cancellation, progress);
            var trainingMetrics = ml.Ordinal().Evaluate(model.Transform(view), crossingRepairedColumnName: OrdinalTransformer.CrossingRepairedColumnName);

            int? predictRepairs = null;
            if (toPredict is not null)
            {
                var scored = model.Transform(Load(ml, toPredict, new float[toPredict.Length], null));
                predictRepairs = WritePredictions(scored, model.Model.ClassNames, parse.GetValue(output)!);
            }

            var m = model.Model;
            var report = new
            {
                N = m.RowCount,
                Classes = m.ClassNames,
                RareClass = options.RareClass.ToString().ToLowerInvariant(),
                Lambda = m.Lambda,
                LogLikelihood = m.LogLikelihood,
                Features = design.Names,
                Intercepts = m.Intercepts,
                Weights = m.Weights,
                CvBrier = m.Path.Count == 0 ? null : m.Path.Select(p => new { p.Lambda, Brier = p.CrossValidationBrier, StandardError = p.CrossValidationBrierStandardError, p.NonZeroDifferences }).ToArray(),
                CrossingRepairs = trainingMetrics.CrossingRepairs,
                PredictCrossingRepairs = predictRepairs,
                m.Converged,
                m.Iterations,
            };
            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(report);
                return Task.FromResult(0);
            }
            AnsiConsole.MarkupLine($"PRESTO on {m.RowCount} rows, {m.ClassCount} classes ({Markup.Escape(string.Join(" < ", m.ClassNames))}), rare class: {report.RareClass}");
            AnsiConsole.MarkupLine($"lambda {m.Lambda:G4}{(m.Path.Count > 0 ? $" (chosen by {options.NumberOfFolds}-fold CV, Brier {m.Path.First(p => p.Lambda == m.Lambda).CrossValidationBrier:F4})" : "")}, " +
                                   $"log-likelihood {m.LogLikelihood:F3}, crossing repairs on the training rows: {trainingMetrics.CrossingRepairs}");
            var grid = new Table().AddColumn("feature");
            for (var k = 0; k < m.ClassCount - 1; k++) grid.AddColumn($"beta{k + 1}");
            grid.AddRow(["(intercept)", .. m.Intercepts.Select(v => v.ToString("F4", CultureInfo.InvariantCulture))]);
            for (var j = 0; j < design.Names.Count; j++)
            {
                grid.AddRow([Markup.Escape(design.Names[j]), .. m.Weights.Select(w => w[j].ToString("F4", CultureInfo.InvariantCulture))]);
            }
            AnsiConsole.Write(grid);
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>
    /// 0-based class indices and class names: numeric labels ordered numerically, text labels in the --classes order or
    /// by first appearance.
    /// </summary>
    private static (float[] Labels, string[] ClassNames) Labels(CsvTable table, string column, string? classes)
    {
        var text = table.Text(column, "--label");
        string[] names;
        if (classes is not null)
        {
            names = classes.Split(',', StringSplitOptions.TrimEntries);
        }
        else if (text.All(t => double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
        {
            names = text.Distinct().OrderBy(t => double.Parse(t, CultureInfo.InvariantCulture)).ToArray();
        }
        else
        {
            names = text.Distinct().ToArray();
        }
        var labels = text.Select((t, r) =>
        {
            var index = Array.IndexOf(names, t);
            return index >= 0 ? index : throw new FormatException($"{table.Source}, data row {r + 1}: --label column '{column}' holds '{t}', which --classes does not list.");
        }).Select(i => (float)i).ToArray();
        return (labels, names);
    }

    /// <summary>An IDataView with a Features vector and, when class names are given, a key Label whose key values are those names.</summary>
    private static IDataView Load(MLContext ml, float[][] features, float[] labels, string[]? classNames)
    {
        var definition = SchemaDefinition.Create(typeof(Row));
        definition[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, features.Length == 0 ? 1 : features[0].Length);
        var view = ml.Data.LoadFromEnumerable(features.Select((f, i) => new Row { Features = f, Label = labels[i] }), definition);
        if (classNames is null)
        {
            return view;
        }
        var named = ml.Transforms.Conversion.MapValue(nameof(Row.Label), classNames.Select((n, i) => new KeyValuePair<float, string>(i, n)), nameof(Row.Label));
        var keyData = ml.Data.LoadFromEnumerable(classNames.Select(n => new { Label = n }));
        return named.Append(ml.Transforms.Conversion.MapValueToKey(nameof(Row.Label), keyData: keyData)).Fit(view).Transform(view);
    }

    private static int WritePredictions(IDataView scored, IReadOnlyList<string> classNames, string path)
    {
        var probabilities = scored.GetColumn<float[]>("Score").ToArray();
        var repaired = scored.GetColumn<bool>(OrdinalTransformer.CrossingRepairedColumnName).Count(r => r);
        var text = new StringBuilder();
        text.AppendLine(string.Join(',', classNames.Select(n => Quote("p_" + n))));
        foreach (var row in probabilities)
        {
            text.AppendLine(string.Join(',', row.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        }
        File.WriteAllText(path, text.ToString());
        return repaired;
    }

    private static string Quote(string field) => field.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{field.Replace("\"", "\"\"")}\"" : field;
}
