using System.CommandLine;
using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions;
using Microsoft.ML.PaperExtensions.Categorical;
using Microsoft.ML.PaperExtensions.Ordinal;
using Spectre.Console;

namespace PaperExtensions.Cli;

/// <summary><c>mlnet-papers ordinal</c>: fits PRESTO on a CSV file, optionally predicts another.</summary>
internal static class OrdinalCommand
{
    public static Command Create()
    {
        var data = CliRunner.Required<string>("--data", "CSV file with a header row.");
        var label = CliRunner.Required<string>("--label", "The ordered class column: numbers (ordered numerically), or text with --classes giving the order.");
        var features = new Option<string?>("--features") { Description = "Comma-separated numeric feature columns." };
        var categorical = new Option<string?>("--categorical") { Description = "Comma-separated categorical columns, treatment-coded (first level = reference; numeric levels sorted, text by first appearance)." };
        var lambda = new Option<double?>("--lambda") { Description = "The penalty strength; without it, lambda is chosen by cross-validation." };
        var folds = new Option<int>("--cv-folds") { Description = "Cross-validation folds.", DefaultValueFactory = _ => 5 };
        var nLambda = new Option<int>("--n-lambda") { Description = "Lambda values on the path.", DefaultValueFactory = _ => 20 };
        var penalizeFirst = new Option<bool>("--penalize-first") { Description = "Penalise the first weight vector too (true, as the authors' final code).", DefaultValueFactory = _ => true };
        var rare = new Option<string>("--rare") { Description = "Which end class is rare: last or first.", DefaultValueFactory = _ => "last" };
        rare.AcceptOnlyFromAmong("last", "first");
        var classes = new Option<string?>("--classes") { Description = "Comma-separated class order of a text label (required for one)." };
        var predict = new Option<string?>("--predict") { Description = "CSV file to predict (it may contain the label column, which is ignored)." };
        var output = new Option<string?>("--out") { Description = "Where --predict writes one row per input row: p_<class> columns in class order." };
        var seed = CliRunner.SeedOption();
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
            if (parse.GetValue(folds) < 2) throw new ArgumentException($"--cv-folds must be at least 2, but is {parse.GetValue(folds)}.");
            var progress = new ConsoleProgress();
            var source = CsvSource.Open(parse.GetValue(data)!);
            var numeric = parse.GetValue(features) is { } f ? source.Columns(f, "--features") : [];
            var factors = parse.GetValue(categorical) is { } c ? source.Columns(c, "--categorical") : [];
            var labelName = parse.GetValue(label)!;
            source.Column(labelName, "--label");
            var ml = CliRunner.Context(parse.GetValue(seed));
            var classNames = ClassOrder(ml, source, labelName, parse.GetValue(classes));

            // The file to predict is opened and its columns checked before training, so that a mistake in it does not cost a whole fit.
            var predictSource = parse.GetValue(predict) is { } predictFile ? CsvSource.Open(predictFile) : null;
            var outputPath = parse.GetValue(output);
            if (predictSource is not null)
            {
                foreach (var column in numeric.Concat(factors)) predictSource.Column(column, "--predict");
                CliRunner.RefuseOverwrite(outputPath!, "--out", source.Path, predictSource.Path);
            }

            var columns = numeric.Select(n => (n, DataKind.Single)).Concat(factors.Select(n => (n, DataKind.String)))
                .Append((labelName, classNames is null ? DataKind.Single : DataKind.String)).ToList();
            var training = source.Load(ml, columns);
            var coding = factors.Count == 0 ? null : ml.Transforms.Categorical.TreatmentCoding(factors.Select(f => new TreatmentCodingEstimator.ColumnOptions(f)).ToArray()).Fit(training);
            IDataView Featurize(IDataView rows)
            {
                var coded = coding?.Transform(rows) ?? rows;
                return ml.Transforms.Concatenate(FeatureColumn, [.. numeric, .. factors]).Fit(coded).Transform(coded);
            }
            var view = Featurize(training);
            if (classNames is not null) view = TextToKey(ml, labelName, classNames).Fit(view).Transform(view);
            var options = new PrestoTrainer.Options
            {
                LabelColumnName = labelName,
                FeatureColumnName = FeatureColumn,
                Lambda = parse.GetValue(lambda),
                NumberOfFolds = parse.GetValue(folds),
                NumberOfLambdas = parse.GetValue(nLambda),
                PenalizeFirstVector = parse.GetValue(penalizeFirst),
                RareClass = parse.GetValue(rare) == "first" ? RareClassPosition.First : RareClassPosition.Last,
                Seed = parse.GetValue(seed),
                Device = CliRunner.Device(parse, device),
            };
            using var model = CliRunner.Explained(source, () => ml.Ordinal().Trainers.Presto(options).Fit(view, cancellation, progress));
            var trainingMetrics = ml.Ordinal().Evaluate(model.Transform(view), labelName, crossingRepairedColumnName: OrdinalTransformer.CrossingRepairedColumnName);

            int? predictRepairs = null;
            if (predictSource is not null)
            {
                if (coding is not null) predictSource.CheckLevels(ml, coding);
                var toPredict = predictSource.Load(ml, columns.SkipLast(1).ToList());
                predictRepairs = CliRunner.Explained(predictSource, () => WritePredictions(model.Transform(Featurize(toPredict)), model.Model.ClassNames, outputPath!));
            }

            var m = model.Model;
            var featureNames = numeric.Concat(factors.SelectMany(name => coding!.Levels[name].Skip(1).Select(level => $"{name}={level}"))).ToList();
            var report = new
            {
                N = m.RowCount,
                Classes = m.ClassNames,
                RareClass = options.RareClass.ToString().ToLowerInvariant(),
                Lambda = m.Lambda,
                LogLikelihood = m.LogLikelihood,
                Features = featureNames,
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
            for (var j = 0; j < featureNames.Count; j++)
            {
                grid.AddRow([Markup.Escape(featureNames[j]), .. m.Weights.Select(w => w[j].ToString("F4", CultureInfo.InvariantCulture))]);
            }
            AnsiConsole.Write(grid);
            return Task.FromResult(0);
        });
        return command;
    }

    private const string FeatureColumn = "Features";

    /// <summary>
    /// The class order of a text label: --classes, or null when the label is numeric (ordered numerically by the trainer). A
    /// label whose values are mostly numbers with a stray word is an error naming the word and its line, not a text label.
    /// </summary>
    private static string[]? ClassOrder(MLContext ml, CsvSource source, string labelName, string? classes)
    {
        var distinct = new Dictionary<string, long>(StringComparer.Ordinal);
        long row = 0;
        foreach (var value in source.Text(ml, [labelName]))
        {
            distinct.TryAdd(value[0], row++);
            if (value[0].Length == 0) throw new FormatException($"{source.Path}, line {source.Locate(row - 1, labelName).Line}: --label column '{labelName}' is empty; every row needs a class.");
        }
        var numbers = distinct.Keys.Where(CsvSource.IsNumber).ToList();
        if (classes is not null)
        {
            var order = classes.Split(',', StringSplitOptions.TrimEntries);
            var unlisted = distinct.Where(d => !order.Contains(d.Key)).MinBy(d => d.Value);
            if (unlisted.Key is not null)
            {
                throw new FormatException($"{source.Path}, line {source.Locate(unlisted.Value, labelName).Line}: --label column '{labelName}' holds '{unlisted.Key}', which --classes does not list.");
            }
            return order;
        }
        if (numbers.Count == distinct.Count) return null;
        if (numbers.Count * 2 >= distinct.Count)
        {
            var word = distinct.Where(d => !CsvSource.IsNumber(d.Key)).MinBy(d => d.Value);
            throw new FormatException($"{source.Path}, line {source.Locate(word.Value, labelName).Line}: --label column '{labelName}' holds '{word.Key}' among numbers; " +
                "fix the value, or give the class order with --classes if the label really is text.");
        }
        throw new ArgumentException($"--label column '{labelName}' is text ({string.Join(", ", distinct.Keys.Take(6))}{(distinct.Count > 6 ? ", ..." : "")}); " +
            "an ordinal model needs the classes in order: give it with --classes.");
    }

    /// <summary>A text label as a key whose key values are the class names in the given order.</summary>
    private static IEstimator<ITransformer> TextToKey(MLContext ml, string labelName, string[] classNames) =>
        ml.Transforms.Conversion.MapValueToKey(labelName, keyData: ml.Data.LoadFromEnumerable(classNames.Select(n => new ClassName { Value = n })));

    private sealed class ClassName
    {
        public string Value { get; set; } = "";
    }

    /// <summary>Writes p_&lt;class&gt; columns, one row per input row, streaming; returns the number of repaired rows.</summary>
    private static int WritePredictions(IDataView scored, IReadOnlyList<string> classNames, string path)
    {
        using var writer = new StreamWriter(path);
        writer.WriteLine(string.Join(',', classNames.Select(n => Quote("p_" + n))));
        using var cursor = scored.GetRowCursor([scored.Schema[ColumnNames.Score], scored.Schema[OrdinalTransformer.CrossingRepairedColumnName]]);
        var score = cursor.GetGetter<VBuffer<float>>(scored.Schema[ColumnNames.Score]);
        var crossed = cursor.GetGetter<bool>(scored.Schema[OrdinalTransformer.CrossingRepairedColumnName]);
        var probabilities = default(VBuffer<float>);
        var flag = false;
        var repaired = 0;
        while (cursor.MoveNext())
        {
            score(ref probabilities);
            crossed(ref flag);
            repaired += flag ? 1 : 0;
            writer.WriteLine(string.Join(',', probabilities.DenseValues().Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        }
        return repaired;
    }

    private static string Quote(string field) => field.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{field.Replace("\"", "\"\"")}\"" : field;
}
