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
    public static Command Create()
    {
        var train = CliRunner.Required<string>("--train", "CSV file with a header row; rows with an empty label are unlabelled.");
        var label = CliRunner.Required<string>("--label", "The class column. Numbers are classes in numeric order, other text in ordinal order.");
        var test = new Option<string?>("--test") { Description = "CSV file of labelled rows to score (accuracy and macro-F1 over the known classes)." };
        var features = new Option<string?>("--features") { Description = "Comma-separated numeric feature columns; default: every other column that is numeric in all rows." };
        var method = new Option<string>("--method")
        {
            Description = "wad; wad-graph (WAD whose teacher propagates the labels along a kNN graph in its embedding); labelspreading (scikit-learn's kNN " +
                          "LabelSpreading, k = 7, alpha = 0.2); labelpropagation (scikit-learn's kNN LabelPropagation: labelled rows keep their labels, k = 7, " +
                          "up to 1,000 iterations); or a baseline: supervised, pseudolabel, selftraining.",
            DefaultValueFactory = _ => "wad",
        };
        method.AcceptOnlyFromAmong("wad", "wad-graph", "labelspreading", "labelpropagation", "supervised", "pseudolabel", "selftraining");
        var graphSpace = new Option<string>("--graph-space")
        {
            Description = "Where wad-graph builds its kNN graph: embedding (the teacher's, default), features (standardised) or raw (the features as given: " +
                          "for features in one unit, such as pixels or counts).",
            DefaultValueFactory = _ => "embedding",
        };
        graphSpace.AcceptOnlyFromAmong("embedding", "features", "raw");
        var student = new Option<string>("--student")
        {
            Description = "What wad, wad-graph and pseudolabel distil into: network (an MLP, default) or neighbors (the vote of the k nearest training " +
                          "rows, labelled and pseudo-labelled, in the --graph-space; predicts as label spreading does; with wad-graph its teacher is label " +
                          "spreading with its defaults, and nothing is promoted).",
            DefaultValueFactory = _ => "network",
        };
        student.AcceptOnlyFromAmong("network", "neighbors");
        var seed = CliRunner.SeedOption();
        var device = CliRunner.DeviceOption();
        var json = CliRunner.JsonOption();
        var command = new Command("semisupervised", "Train WAD (semi-supervised, robust to unknown classes among the unlabelled rows) from a CSV file.")
        {
            train, label, test, features, method, graphSpace, student, seed, device, json,
        };
        command.Validators.Add(result =>
        {
            var methodName = result.GetResult(method)?.Tokens.FirstOrDefault()?.Value ?? "wad";
            var neighbors = result.GetResult(student)?.Tokens.FirstOrDefault()?.Value == "neighbors";
            if (result.GetResult(graphSpace) is { Implicit: false } && methodName != "wad-graph" && !neighbors)
            {
                result.AddError($"--graph-space is a setting of --method wad-graph and of --student neighbors, not of {methodName}.");
            }
            if (neighbors && methodName is not ("wad" or "wad-graph" or "pseudolabel")) result.AddError($"--student neighbors distils a teacher's pseudo-labels: --method wad, wad-graph or pseudolabel, not {methodName}.");
        });
        command.SetAction((parse, cancellation) =>
        {
            var progress = new ConsoleProgress();
            var source = CsvSource.Open(parse.GetValue(train)!);
            var labelName = parse.GetValue(label)!;
            source.Column(labelName, "--label");
            var ml = CliRunner.Context(parse.GetValue(seed));
            var (numeric, numericLabel) = NumericColumns(ml, source, labelName);
            var featureNames = parse.GetValue(features) is { } f ? source.Columns(f, "--features") : numeric;
            if (featureNames.Count == 0) throw new ArgumentException($"{source.Path} has no numeric column besides --label '{labelName}'; name them with --features.");
            var columns = featureNames.Select(n => (n, DataKind.Single)).Append((labelName, numericLabel ? DataKind.Single : DataKind.String)).ToList();

            // The test file is opened and checked before training, so that a mistake in it does not cost a whole fit.
            var testSource = parse.GetValue(test) is { } testFile ? CsvSource.Open(testFile) : null;
            if (testSource is not null)
            {
                testSource.Column(labelName, "--label");
                foreach (var column in featureNames) testSource.Column(column, "--features");
                var row = 0L;
                foreach (var value in testSource.Text(ml, [labelName]))
                {
                    if (value[0].Length == 0) throw new FormatException($"{testSource.Path}, line {testSource.Locate(row, labelName).Line}: the --test rows need a label.");
                    row++;
                }
            }

            var methodName = parse.GetValue(method)!;
            var options = new WadTrainer.Options
            {
                LabelColumnName = labelName,
                FeatureColumnName = FeatureColumn,
                Method = parse.GetValue(method) switch
                {
                    "supervised" => SemiSupervisedMethod.SupervisedOnly,
                    "pseudolabel" => SemiSupervisedMethod.PseudoLabel,
                    "selftraining" => SemiSupervisedMethod.SelfTraining,
                    _ => SemiSupervisedMethod.Wad,
                },
                Teacher = methodName == "wad-graph" ? TeacherRule.Propagation : TeacherRule.Anchor,
                PropagationSpace = parse.GetValue(graphSpace) switch
                {
                    "features" => PropagationSpace.Features,
                    "raw" => PropagationSpace.RawFeatures,
                    _ => PropagationSpace.Embedding,
                },
                Student = parse.GetValue(student) == "neighbors" ? StudentRule.Neighbors : StudentRule.Network,
                Seed = parse.GetValue(seed),
                Device = CliRunner.Device(parse, device),
            };
            var concatenate = ml.Transforms.Concatenate(FeatureColumn, [.. featureNames]);
            var training = source.Load(ml, columns, emptyIsMissing: [labelName]);
            var trainView = concatenate.Fit(training).Transform(training);
            using var model = CliRunner.Explained(source, () => methodName switch
            {
                "labelspreading" => (Microsoft.ML.PaperExtensions.Onnx.OnnxBackedTransformer)ml.SemiSupervised().Trainers.LabelSpreading(labelName, FeatureColumn)
                    .Fit(trainView, cancellation, progress),
                "labelpropagation" => ml.SemiSupervised().Trainers.LabelPropagation(labelName, FeatureColumn).Fit(trainView, cancellation, progress),
                _ => ml.SemiSupervised().Trainers.Wad(options).Fit(trainView, cancellation, progress),
            });
            var m = Summary.Of(model);

            SemiSupervisedEvaluation? evaluation = null;
            if (testSource is not null)
            {
                var testView = testSource.Load(ml, columns);
                var scored = model.Transform(concatenate.Fit(testView).Transform(testView));
                var confidence = scored.Schema.GetColumnOrNull(SemiSupervisedTransformer.KnownClassConfidenceColumnName)?.Name;
                evaluation = CliRunner.Explained(testSource, () => ml.SemiSupervised().Evaluate(scored, labelName, confidenceColumnName: confidence));
            }
            double? accuracy = evaluation is { KnownClassRows: > 0 } ? evaluation.Accuracy : null;
            double? macroF1 = evaluation is { KnownClassRows: > 0 } ? evaluation.MacroF1 : null;
            int? testRows = evaluation?.KnownClassRows, unknownTestRows = evaluation?.UnknownClassRows;

            var report = new
            {
                Method = methodName,
                Student = methodName is "wad" or "wad-graph" or "pseudolabel" ? parse.GetValue(student) : null,
                Labeled = m.LabeledRowCount,
                Unlabeled = m.UnlabeledRowCount,
                Classes = m.ClassNames,
                Features = featureNames,
                MeanUnlabeledWeight = m.MeanUnlabeledWeight,
                Promoted = m.Promoted,
                Accuracy = accuracy,
                MacroF1 = macroF1,
                TestRows = testRows,
                TestRowsOfUnknownClasses = unknownTestRows,
                UnknownAuroc = evaluation?.UnknownAuroc,
                FellBackToSupervised = m.FellBackToSupervised,
                Notes = m.Notes,
            };
            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(report);
                return Task.FromResult(0);
            }
            AnsiConsole.MarkupLine($"{Markup.Escape(methodName)} on {m.LabeledRowCount} labelled and {m.UnlabeledRowCount} unlabelled rows, " +
                                   $"{featureNames.Count} features, known classes {Markup.Escape(string.Join(", ", m.ClassNames))}");
            if (m.MeanUnlabeledWeight is { } weight) AnsiConsole.MarkupLine($"mean weight of the unlabelled rows {weight:F3}, promoted {report.Promoted}");
            if (accuracy is not null)
            {
                AnsiConsole.MarkupLine($"test: {testRows} rows of known classes, accuracy {accuracy:F4}, macro-F1 {macroF1:F4}" +
                                       (unknownTestRows > 0 ? $" ({unknownTestRows} rows of other classes not scored)" : ""));
            }
            if (evaluation?.UnknownAuroc is { } auroc)
            {
                AnsiConsole.MarkupLine($"unknown-class test rows flagged by low KnownClassConfidence: AUROC {auroc:F4}");
            }
            foreach (var note in m.Notes) AnsiConsole.MarkupLine($"note: {Markup.Escape(note)}");
            return Task.FromResult(0);
        });
        return command;
    }

    private const string FeatureColumn = "Features";

    /// <summary>What the report shows of a fitted WAD or label-spreading model.</summary>
    private sealed record Summary(int LabeledRowCount, int UnlabeledRowCount, IReadOnlyList<string> ClassNames, double? MeanUnlabeledWeight, int Promoted, IReadOnlyList<string> Notes,
        bool? FellBackToSupervised = null)
    {
        public static Summary Of(ITransformer model) => model switch
        {
            SemiSupervisedTransformer wad => new(wad.Model.LabeledRowCount, wad.Model.UnlabeledRowCount, wad.Model.ClassNames, wad.Model.MeanUnlabeledWeight,
                wad.Model.UnlabeledRows.Count(r => r.PromotedInRound > 0), wad.Model.Notes, wad.Model.FellBackToSupervised),
            // Label spreading weighs no row and promotes none.
            LabelSpreadingTransformer spreading => new(spreading.Model.LabeledRowCount, spreading.Model.UnlabeledRowCount, spreading.Model.ClassNames,
                null, 0, spreading.Model.Notes),
            _ => throw new InvalidOperationException($"Unexpected model {model.GetType().Name}."),
        };
    }

    /// <summary>
    /// The columns other than the label that are numeric in every row, and whether the label's non-empty values are all
    /// numbers (then it is read as Single with NaN for unlabelled rows, else as text with empty for unlabelled rows).
    /// </summary>
    private static (IReadOnlyList<string> Numeric, bool NumericLabel) NumericColumns(MLContext ml, CsvSource source, string labelName)
    {
        var names = source.Header.ToList();
        var numeric = new bool[names.Count];
        Array.Fill(numeric, true);
        var labelIndex = names.IndexOf(labelName);
        var labelNumeric = true;
        foreach (var row in source.Text(ml, names))
        {
            for (var j = 0; j < row.Length; j++)
            {
                if (j == labelIndex) labelNumeric &= row[j].Length == 0 || CsvSource.IsNumber(row[j]);
                else numeric[j] &= CsvSource.IsNumber(row[j]);
            }
        }
        return (names.Where((n, j) => j != labelIndex && numeric[j]).ToList(), labelNumeric);
    }
}
