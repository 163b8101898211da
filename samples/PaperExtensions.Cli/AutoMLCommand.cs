using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions;
using Microsoft.ML.PaperExtensions.AutoML;
using Microsoft.ML.PaperExtensions.Categorical;
using Spectre.Console;

namespace PaperExtensions.Cli;

/// <summary><c>mlnet-papers automl</c>: searches a task's trainers and their options on a CSV file.</summary>
internal static class AutoMLCommand
{
    private static readonly Dictionary<string, AutoMLTask> Tasks = new()
    {
        ["ordinal"] = AutoMLTask.Ordinal, ["survival"] = AutoMLTask.Survival, ["semisupervised"] = AutoMLTask.SemiSupervised,
        ["multiclass"] = AutoMLTask.Multiclass, ["binary"] = AutoMLTask.Binary, ["regression"] = AutoMLTask.Regression,
    };

    public static Command Create()
    {
        var task = CliRunner.Required<string>("--task", "ordinal, survival, semisupervised, multiclass, binary or regression.");
        task.AcceptOnlyFromAmong([.. Tasks.Keys]);
        var data = CliRunner.Required<string>("--data", "CSV file with a header row (semisupervised: rows with an empty label are unlabelled).");
        var label = new Option<string?>("--label") { Description = "The label column (every task but survival). Ordinal: numbers, in numeric order; binary: 0/1 or true/false." };
        var features = new Option<string?>("--features") { Description = "Comma-separated numeric columns; default: every other column that is numeric in all rows. Survival: candidates for every parameter." };
        var categorical = new Option<string?>("--categorical") { Description = "Comma-separated text columns, treatment-coded (first level = reference), beside --features. Survival: candidates too." };
        var time = new Option<string?>("--time") { Description = "Survival: column of observed times (> 0)." };
        var eventColumn = new Option<string?>("--event") { Description = "Survival: event column, 0/1 or see --event-value." };
        var eventValue = new Option<double?>("--event-value") { Description = "Survival: the --event value that means an event (2 in R's lung data)." };
        var test = new Option<string?>("--test") { Description = "CSV file scored by the best pipeline with the same metric (testMetric)." };
        var budget = new Option<double>("--time-budget") { Description = "Seconds the search may run.", DefaultValueFactory = _ => 60 };
        var maxTrials = new Option<int?>("--max-trials") { Description = "The most trials to run." };
        var tuner = new Option<string?>("--tuner") { Description = "cfo (cost-frugal local search with a choice among trainers), smac (model-based: random-forest surrogate and expected improvement), random or grid; default: smac for survival, smac with half of its trials random for ordinal data of 1,000 rows or more (where the ensemble is on), cfo otherwise." };
        tuner.AcceptOnlyFromAmong("cfo", "smac", "random", "grid");
        var metric = new Option<string?>("--metric") { Description = "ordinal: brier (default), rps, rarebrier, qwk; survival: cindex (default), ibs, loglik; semisupervised, multiclass, binary: accuracy (default), macrof1, logloss; regression: rmse (default), r2." };
        var folds = new Option<int>("--cv-folds") { Description = "Folds of the cross-validation that scores each trial; 0 holds out 20 % instead.", DefaultValueFactory = _ => 5 };
        var ensemble = new Option<int?>("--ensemble") { Description = "ordinal, multiclass, semisupervised: average up to n trials' class probabilities when that scores better than the best trial (ensemble selection); 0 turns it off. Default: 20 for ordinal, off otherwise." };
        var dropMissing = new Option<bool>("--drop-missing") { Description = "Drop rows with an empty field in a used column (the count is reported); otherwise they are an error." };
        var seed = CliRunner.SeedOption();
        var json = CliRunner.JsonOption();
        var command = new Command("automl", "Search the trainers of a task (ours and ML.NET's) and their options on a CSV file; report the best pipeline and every trial.")
        {
            task, data, label, features, categorical, time, eventColumn, eventValue, test, budget, maxTrials, tuner, metric, folds, ensemble, dropMissing, seed, json,
        };
        command.Validators.Add(result =>
        {
            // The raw token: a task outside the list is reported by the parser, and GetValue would throw on it here.
            var taskName = result.GetResult(task)?.Tokens.FirstOrDefault()?.Value;
            if (taskName is null || !Tasks.ContainsKey(taskName)) return;
            var survival = taskName == "survival";
            if (survival && (result.GetValue(time) is null || result.GetValue(eventColumn) is null)) result.AddError("--task survival needs --time and --event.");
            if (!survival && result.GetValue(label) is null) result.AddError($"--task {taskName} needs --label.");
        });
        command.SetAction(async (parse, cancellation) =>
        {
            var watch = Stopwatch.StartNew();
            if (parse.GetValue(budget) is not > 0) throw new ArgumentException($"--time-budget must be positive, but is {parse.GetValue(budget)}.");
            if (parse.GetValue(maxTrials) is < 1) throw new ArgumentException($"--max-trials must be at least 1, but is {parse.GetValue(maxTrials)}.");
            if (parse.GetValue(folds) is 1 or < 0) throw new ArgumentException($"--cv-folds must be 0 (a 20 % holdout) or at least 2, but is {parse.GetValue(folds)}.");
            var taskKind = Tasks[parse.GetValue(task)!];
            if (parse.GetValue(ensemble) is { } steps && (steps < 0 || steps > 1 && taskKind is not (AutoMLTask.Ordinal or AutoMLTask.Multiclass or AutoMLTask.SemiSupervised)))
            {
                throw new ArgumentException(steps < 0 ? $"--ensemble must be 0 (off) or more, but is {steps}."
                    : $"--ensemble averages class probabilities: it applies to --task ordinal, multiclass or semisupervised, not {parse.GetValue(task)}.");
            }
            var metricName = parse.GetValue(metric);
            // A wrong metric is an error before any data is read.
            _ = AutoMLMetric.For(taskKind, metricName);

            var source = CsvSource.Open(parse.GetValue(data)!);
            var testSource = parse.GetValue(test) is { } testFile ? CsvSource.Open(testFile) : null;
            var ml = CliRunner.Context(parse.GetValue(seed));
            var layout = Layout.Of(taskKind, source, parse.GetValue(label), parse.GetValue(time), parse.GetValue(eventColumn), parse.GetValue(features), parse.GetValue(categorical), ml);
            foreach (var column in layout.Columns.Select(c => c.Name).Where(c => c != layout.Label || taskKind != AutoMLTask.SemiSupervised)) testSource?.Column(column, "--test");

            var options = new AutoMLTaskOptions
            {
                Task = taskKind,
                LabelColumnName = layout.Label ?? ColumnNames.Label,
                TimeColumnName = parse.GetValue(time) ?? "Time",
                EventColumnName = parse.GetValue(eventColumn) ?? "Event",
                EventValue = parse.GetValue(eventValue),
                SurvivalFeatureColumnNames = taskKind == AutoMLTask.Survival ? [.. layout.Features, .. layout.Categorical] : [],
                MetricName = metricName,
                NumberOfFolds = parse.GetValue(folds),
                Seed = parse.GetValue(seed),
            };
            var (training, dropped, coding) = layout.Load(ml, source, parse.GetValue(dropMissing), coding: null);
            // A level of the test file that training did not have is an error before the search, not after it.
            if (coding is not null) testSource?.CheckLevels(ml, coding);
            var experiment = CliRunner.Explained(source, () => ml.PaperAutoML().CreateExperiment(training, options))
                .SetTrainingTimeInSeconds(parse.GetValue(budget))
                .SetMonitor(new ConsoleMonitor());
            if (parse.GetValue(maxTrials) is { } max) experiment.SetMaxModelToExplore(max);
            if (parse.GetValue(ensemble) is { } ensembleSteps) experiment.SetEnsemble(ensembleSteps, options.LabelColumnName);
            _ = parse.GetValue(tuner) switch
            {
                "random" => experiment.SetRandomSearchTuner(),
                "grid" => experiment.SetGridSearchTuner(),
                "cfo" => experiment.SetCostFrugalTuner(),
                "smac" => experiment.SetSmacTuner(),
                _ => experiment,
            };
            var best = await experiment.RunAsync(cancellation);
            var scorer = experiment.Metric!;
            double? testMetric = null;
            if (testSource is not null)
            {
                var (testView, _, _) = layout.Load(ml, testSource, parse.GetValue(dropMissing), coding);
                testMetric = CliRunner.Explained(testSource, () => scorer.Evaluate(ml, best.Model!.Transform(testView)));
            }
            (best.Model as IDisposable)?.Dispose();

            var trials = experiment.Trials.OrderBy(t => t.TrialSettings.TrialId).Select(t => new
            {
                Trial = t.TrialSettings.TrialId,
                Trainer = t.TrainerName,
                Parameters = Options(t.TrialSettings.Parameter),
                Metric = t.Status == TrialStatus.Completed ? t.Metric : (double?)null,
                Seconds = Math.Round(t.DurationInMilliseconds / 1000, 3),
                Status = t.Status.ToString().ToLowerInvariant(),
                Error = t.Exception?.Message,
                // A final re-evaluation of a search trial on another draw of the folds (small data, see SetFinalReevaluation).
                ReevaluationOf = t.ReevaluationOf,
            }).ToList();
            var report = new
            {
                Task = parse.GetValue(task),
                BestTrainer = best.TrainerName,
                BestParameters = Options(best.TrialSettings.Parameter),
                MetricName = scorer.Name,
                Maximize = scorer.IsMaximize,
                BestMetric = best.Metric,
                // The mean over its draws of the split when the best trials were re-evaluated; null otherwise.
                SelectionMetric = double.IsNaN(best.SelectionMetric) ? (double?)null : best.SelectionMetric,
                // When an average of trials scored better than the best one (--ensemble): its trials and weights; null otherwise.
                Ensemble = best.Ensemble?.Select(m => new { Trial = m.Trial.TrialSettings.TrialId, Trainer = m.Trial.TrainerName, m.Weight }).ToList(),
                TestMetric = testMetric,
                Trials = trials.Count,
                Seconds = Math.Round(watch.Elapsed.TotalSeconds, 2),
                Features = layout.Features,
                Categorical = layout.Categorical,
                DroppedRows = dropped,
                TrialTable = trials,
            };
            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(report);
                return 0;
            }
            var table = new Table().AddColumns("trial", "trainer", "parameters", scorer.Name, "seconds", "status");
            foreach (var t in trials)
            {
                table.AddRow(t.Trial.ToString(CultureInfo.InvariantCulture), Markup.Escape(t.Trainer ?? ""), Markup.Escape(t.Parameters.ToString()),
                    t.Metric?.ToString("F4", CultureInfo.InvariantCulture) ?? "", t.Seconds.ToString("F2", CultureInfo.InvariantCulture),
                    Markup.Escape(t.Error ?? (t.ReevaluationOf is { } of ? $"{t.Status}, trial {of} on another draw" : t.Status)));
            }
            AnsiConsole.Write(table);
            var bestText = best.Ensemble is { } members
                ? "an average of " + string.Join(", ", members.Select(m => $"trial {m.Trial.TrialSettings.TrialId} ({m.Trial.TrainerName}) x {m.Weight:F2}"))
                : $"{best.TrainerName} {report.BestParameters}";
            AnsiConsole.MarkupLine($"best: {Markup.Escape(bestText)}, {scorer.Name} {best.Metric:F4}" +
                                   (report.SelectionMetric is { } mean ? $", {mean:F4} over two or more draws of the folds" : "") + " " +
                                   $"({(options.NumberOfFolds == 0 ? "20 % holdout" : $"{options.NumberOfFolds}-fold CV")})" +
                                   (testMetric is { } v ? $", test {scorer.Name} {v:F4}" : "") + $"; {trials.Count} trials in {report.Seconds:F1} s");
            return 0;
        });
        return command;
    }

    /// <summary>The chosen trainer's options (the trainer is reported on its own).</summary>
    private static Parameter Options(Parameter p) => p.TryGetValue(BranchSearchSpace.BranchKey, out var name) && p[(string)name] is Parameter nested ? nested : p;

    /// <summary>Progress on standard error, one line per trial.</summary>
    private sealed class ConsoleMonitor : IMonitor
    {
        public void ReportRunningTrial(TrialSettings settings)
        {
        }

        public void ReportCompletedTrial(TrialResult result) =>
            Console.Error.WriteLine($"mlnet-papers: trial {result.TrialSettings.TrialId} {result.TrainerName}: {result.Metric.ToString("G5", CultureInfo.InvariantCulture)} ({result.DurationInMilliseconds / 1000:F1} s)");

        public void ReportBestTrial(TrialResult result)
        {
        }

        public void ReportFailTrial(TrialSettings settings, Exception? exception) =>
            Console.Error.WriteLine($"mlnet-papers: trial {settings.TrialId} did not complete: {exception?.Message.ReplaceLineEndings(" ")}");
    }

    /// <summary>Which columns a task reads and how: the label's kind, the features, the survival outcome.</summary>
    private sealed record Layout(string? Label, IReadOnlyList<string> Features, IReadOnlyList<string> Categorical, IReadOnlyList<(string Name, DataKind Kind)> Columns, AutoMLTask Task)
    {
        public static Layout Of(AutoMLTask task, CsvSource source, string? label, string? time, string? eventColumn, string? featureList, string? categoricalList, MLContext ml)
        {
            var outcome = task == AutoMLTask.Survival ? new[] { source.Header[source.Column(time!, "--time")], source.Header[source.Column(eventColumn!, "--event")] } : [];
            if (label is not null && task != AutoMLTask.Survival) source.Column(label, "--label");
            var used = outcome.Concat(task == AutoMLTask.Survival || label is null ? [] : [label]).ToHashSet();
            var scan = Scan(ml, source, label);
            if (scan.Rows == 0) throw new FormatException($"{source.Path} has a header row but no data rows.");
            var categorical = categoricalList is not null ? source.Columns(categoricalList, "--categorical") : [];
            if (categorical.FirstOrDefault(used.Contains) is { } outcomeColumn) throw new ArgumentException($"--categorical names '{outcomeColumn}', which is the label or outcome.");
            var features = featureList is not null ? source.Columns(featureList, "--features")
                : source.Header.Where((n, j) => !used.Contains(n) && !categorical.Contains(n) && scan.FirstText[j] < 0).ToList();
            if (features.FirstOrDefault(categorical.Contains) is { } both) throw new ArgumentException($"Column '{both}' is named by both --features and --categorical.");
            foreach (var feature in features.Where(f => scan.FirstText[source.Column(f, "--features")] >= 0))
            {
                var (line, text) = source.Locate(scan.FirstText[source.Column(feature, "--features")], feature);
                throw new FormatException($"{source.Path}, line {line}: --features column '{feature}' holds '{text}', which is not a number; " +
                    "name text columns with --categorical (they are treatment-coded), or leave them out.");
            }
            if (features.Count + categorical.Count == 0) throw new ArgumentException($"{source.Path} has no numeric column besides the label or outcome; name them with --features (or text columns with --categorical).");
            var kind = DataKind.Single;
            if (task != AutoMLTask.Survival)
            {
                kind = task switch
                {
                    AutoMLTask.Ordinal when !scan.NumericLabel => throw new ArgumentException(
                        $"--label column '{label}' is not numeric ({string.Join(", ", scan.LabelValues.Take(6))}); an ordinal search needs numbered classes, whose numeric order is the class order."),
                    AutoMLTask.Binary => CheckBinary(label!, scan.LabelValues),
                    AutoMLTask.Regression when !scan.NumericLabel => throw new ArgumentException($"--label column '{label}' of a regression must be numeric."),
                    _ => scan.NumericLabel ? DataKind.Single : DataKind.String,
                };
            }
            var numericKind = task == AutoMLTask.Survival ? DataKind.Double : DataKind.Single;
            var columns = features.Select(f => (f, numericKind)).Concat(categorical.Select(c => (c, DataKind.String))).Concat(outcome.Select(o => (o, DataKind.Double)))
                .Concat(task == AutoMLTask.Survival ? [] : [(label!, kind)]).ToList();
            return new Layout(task == AutoMLTask.Survival ? null : label, features, categorical, columns, task);
        }

        /// <summary>The file's used columns, the categorical ones coded by <paramref name="coding"/> (fitted on these rows when null, and returned).</summary>
        public (IDataView View, long Dropped, TreatmentCodingTransformer? Coding) Load(MLContext ml, CsvSource source, bool dropMissing, TreatmentCodingTransformer? coding)
        {
            var names = Columns.Select(c => c.Name).ToArray();
            var unlabeled = Task == AutoMLTask.SemiSupervised ? new[] { Label! } : [];
            var view = source.Load(ml, Columns, emptyIsMissing: dropMissing ? names : unlabeled);
            long dropped = 0;
            if (dropMissing)
            {
                var filtered = ml.Data.FilterRowsByMissingValues(view, [.. Columns.Where(c => c.Kind != DataKind.String && !unlabeled.Contains(c.Name)).Select(c => c.Name)]);
                var total = CliRunner.CountRows(view);
                dropped = total - CliRunner.CountRows(filtered);
                if (dropped > 0) Console.Error.WriteLine($"mlnet-papers: dropped {dropped} of {total} rows of {source.Path} with missing values.");
                view = filtered;
            }
            if (Task == AutoMLTask.Binary)
            {
                view = ml.Transforms.Conversion.MapValue(Label!, BinaryValues, Label!).Fit(view).Transform(view);
            }
            if (Categorical.Count > 0)
            {
                coding ??= ml.Transforms.Categorical.TreatmentCoding(Categorical.Select(c => new TreatmentCodingEstimator.ColumnOptions(c)).ToArray()).Fit(view);
                view = coding.Transform(view);
            }
            if (Task != AutoMLTask.Survival) view = ml.Transforms.Concatenate(ColumnNames.Features, [.. Features, .. Categorical]).Fit(view).Transform(view);
            return (view, dropped, coding);
        }

        private static readonly Dictionary<string, bool> BinaryValues = new()
        {
            ["0"] = false, ["1"] = true, ["false"] = false, ["true"] = true, ["False"] = false, ["True"] = true, ["FALSE"] = false, ["TRUE"] = true,
        };

        private static DataKind CheckBinary(string label, IReadOnlyCollection<string> values)
        {
            var bad = values.FirstOrDefault(v => !BinaryValues.ContainsKey(v));
            if (bad is not null) throw new ArgumentException($"--label column '{label}' of a binary task must hold 0/1 or true/false, but holds '{bad}'.");
            return DataKind.String;
        }

        /// <summary>
        /// The first row whose field is no number, per column (-1: numeric in every row), whether the label's non-empty values
        /// are numbers, its distinct values, and the number of rows.
        /// </summary>
        private static (long[] FirstText, bool NumericLabel, IReadOnlyCollection<string> LabelValues, long Rows) Scan(MLContext ml, CsvSource source, string? label)
        {
            var names = source.Header.ToList();
            var firstText = new long[names.Count];
            Array.Fill(firstText, -1);
            long row = 0;
            var labelIndex = label is null ? -1 : names.IndexOf(label);
            var labelNumeric = true;
            var labelValues = new HashSet<string>(StringComparer.Ordinal);
            foreach (var fields in source.Text(ml, names))
            {
                for (var j = 0; j < fields.Length; j++)
                {
                    if (j == labelIndex)
                    {
                        if (fields[j].Length > 0 && labelValues.Add(fields[j])) labelNumeric &= CsvSource.IsNumber(fields[j]);
                    }
                    // An empty field is a missing value, not text: loading reports it, or drops the row under --drop-missing.
                    else if (firstText[j] < 0 && fields[j].Length > 0 && !CsvSource.IsNumber(fields[j]))
                    {
                        firstText[j] = row;
                    }
                }
                row++;
            }
            return (firstText, labelNumeric, labelValues, row);
        }
    }
}
