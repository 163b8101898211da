using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.AutoML;
using Microsoft.ML.PaperExtensions.Protocols;
using Microsoft.ML.PaperExtensions.SemiSupervised;
using Microsoft.ML.PaperExtensions.Survival;
using Microsoft.ML.PaperExtensions.TestSupport;

namespace Microsoft.ML.PaperExtensions.Benchmarks;

/// <summary>
/// <c>./build.sh bench automl-quality [seeds] [tasks]</c>: for each task and seed, a random split into search rows and test
/// rows; on the search rows, the component's defaults, random search and the cost-frugal tuner at the same trial budget; the
/// test metric of each on the test rows. CSV on standard output (task, seed, arm, test metric, trials, seconds, best trainer).
/// Tasks: ordinal (soup.csv, multi-class Brier, 30 trials), lung and veteran (survival, C-index, 30 trials), digits
/// (semi-supervised, 10 labels per known digit, rho 0.3, accuracy, 8 trials on a 20 % holdout of the labelled rows).
/// </summary>
internal static class AutoMLQuality
{
    private static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "data", name);

    public static void Run(int seeds, string[] tasks)
    {
        Console.WriteLine("task,seed,arm,metric,value,trials,seconds,best");
        foreach (var task in tasks)
        {
            for (var seed = 1; seed <= seeds; seed++)
            {
                var ml = new MLContext(seed);
                var (options, train, test, trials, defaults) = Setup(ml, task, seed);
                var metric = AutoMLMetric.For(options.Task, null, options.LabelColumnName, options.TimeColumnName, options.EventColumnName, options.EventValue);
                var watch = Stopwatch.StartNew();
                using (var model = (IDisposable)defaults.Fit(train))
                {
                    Report(task, seed, "defaults", metric, metric.Evaluate(ml, ((ITransformer)model).Transform(test)), 1, watch.Elapsed.TotalSeconds, "");
                }
                foreach (var arm in new[] { "random", "cfo" })
                {
                    watch.Restart();
                    var experiment = ml.PaperAutoML().CreateExperiment(train, options).SetMaxModelToExplore(trials);
                    _ = arm == "random" ? experiment.SetRandomSearchTuner() : experiment.SetCostFrugalTuner();
                    var best = experiment.RunAsync().GetAwaiter().GetResult();
                    var value = metric.Evaluate(ml, best.Model!.Transform(test));
                    Report(task, seed, arm, metric, value, experiment.Trials.Count, watch.Elapsed.TotalSeconds, best.TrainerName ?? "");
                    (best.Model as IDisposable)?.Dispose();
                }
            }
        }
    }

    private static void Report(string task, int seed, string arm, AutoMLMetric metric, double value, int trials, double seconds, string best) =>
        Console.WriteLine(string.Join(',', task, seed.ToString(CultureInfo.InvariantCulture), arm, metric.Name, value.ToString("F4", CultureInfo.InvariantCulture),
            trials.ToString(CultureInfo.InvariantCulture), seconds.ToString("F1", CultureInfo.InvariantCulture), best));

    private static (AutoMLTaskOptions Options, IDataView Train, IDataView Test, int Trials, IEstimator<ITransformer> Defaults) Setup(MLContext ml, string task, int seed)
    {
        switch (task)
        {
            case "ordinal":
            {
                var (train, test) = Holdout(SoupFeatures.Load(ml, Data("soup.csv")), seed);
                var options = new AutoMLTaskOptions { Task = AutoMLTask.Ordinal, NumberOfFolds = 3, Seed = seed };
                return (options, train, test, 30, ml.Ordinal().Trainers.Presto(new Ordinal.PrestoTrainer.Options { Seed = seed }));
            }
            case "lung" or "veteran":
            {
                var lung = task == "lung";
                var columns = lung
                    ? new[] { ("time", 1), ("status", 2), ("age", 3), ("sex", 4), ("ph.ecog", 5), ("ph.karno", 6) }
                    : new[] { ("time", 2), ("status", 3), ("trt", 0), ("karno", 4), ("diagtime", 5), ("age", 6), ("prior", 7) };
                var view = ml.Data.LoadFromTextFile(Data(task + ".csv"), [.. columns.Select(c => new TextLoader.Column(c.Item1, DataKind.Double, c.Item2))],
                    separatorChar: ',', hasHeader: true, allowQuoting: true);
                view = ml.Data.FilterRowsByMissingValues(view, [.. columns.Select(c => c.Item1)]);
                var (train, test) = Holdout(view, seed);
                var candidates = columns.Skip(2).Select(c => c.Item1).ToArray();
                var options = new AutoMLTaskOptions
                {
                    Task = AutoMLTask.Survival, TimeColumnName = "time", EventColumnName = "status", EventValue = lung ? 2 : null,
                    SurvivalFeatureColumnNames = candidates, NumberOfFolds = 3, Seed = seed,
                };
                // The component's defaults as a user starts: every covariate on the PH scale, kappa estimated.
                var defaults = ml.Survival().Trainers.FlexibleParametric(new FlexibleSurvivalTrainer.Options
                {
                    TimeColumnName = "time", EventColumnName = "status", EventValue = options.EventValue, PhFeatureColumnNames = candidates,
                });
                return (options, train, test, 30, defaults);
            }
            case "digits":
            {
                var (features, labels) = DigitsMismatch.Load(Data("digits.csv"));
                var split = ClassMismatchSplit.Create(labels, DigitsMismatch.KnownClasses, 10, 0.3, DigitsMismatch.TestFraction, seed);
                var (train, test) = DigitsMismatch.ToDataViews(ml, features, labels, split);
                var known = ml.Data.FilterRowsByColumn(test, "Label", 0, 5.5);
                var options = new AutoMLTaskOptions { Task = AutoMLTask.SemiSupervised, NumberOfFolds = 0, Seed = seed };
                return (options, train, known, 8, ml.SemiSupervised().Trainers.Wad(new WadTrainer.Options { Seed = seed }));
            }
            default:
                throw new ArgumentException($"Unknown task '{task}': ordinal, lung, veteran or digits.");
        }
    }

    private static (IDataView Train, IDataView Test) Holdout(IDataView data, int seed)
    {
        var split = DatasetSplit.Random(data, 0.3, seed + 1000);
        return split.Folds[0];
    }
}
