using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Metrics;
using Microsoft.ML.PaperExtensions.SemiSupervised;
using Microsoft.ML.PaperExtensions.TestSupport;

namespace Microsoft.ML.PaperExtensions.Benchmarks;

/// <summary>
/// Label spreading: how it scales (<c>./build.sh bench labelspreading-scale [rows] [features] [knn|rbf|wad|wad-graph]</c>, WAD for comparison) and how it does
/// on the digits class-mismatch protocol (<c>./build.sh bench labelspreading-digits [seeds]</c>), with the open-set AUROC of
/// <c>KnownClassConfidence</c> on test rows to which the unknown digits left out of the pool are added.
/// </summary>
internal static class LabelSpreadingQuality
{
    private sealed class Row
    {
        public float Label { get; set; }

        [VectorType]
        public float[] Features { get; set; } = [];
    }

    /// <summary>
    /// A mixture of 10 Gaussian classes in <paramref name="features"/> dimensions (each mean 1 on a random 30% of the axes, 0 elsewhere; SD 1),
    /// 10 labelled rows per class, the rest unlabelled, and 1,000 test rows from the same mixture; fit time, peak working set,
    /// accuracy on the test rows and their prediction time. <paramref name="method"/>: knn or rbf (LabelSpreading), wad (WAD's
    /// defaults) or wad-graph (WAD with <see cref="TeacherRule.Propagation"/>).
    /// </summary>
    public static void Scale(int rows, int features, string method)
    {
        var random = new Random(1);
        var means = Enumerable.Range(0, 10).Select(_ => Enumerable.Range(0, features).Select(_ => random.NextDouble() < 0.3 ? 1.0 : 0.0).ToArray()).ToArray();
        var truth = new int[rows + 1000];
        var data = new List<Row>(rows + 1000);
        for (var i = 0; i < rows + 1000; i++)
        {
            var c = i % 10;
            truth[i] = c;
            var x = new float[features];
            for (var j = 0; j < features; j++) x[j] = (float)(means[c][j] + Normal(random));
            data.Add(new Row { Label = i < 100 || i >= rows ? c : float.NaN, Features = x });
        }
        var ml = new MLContext(1);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, features);
        var view = ml.Data.LoadFromEnumerable(data[..rows], schema);
        var test = ml.Data.LoadFromEnumerable(data[rows..], schema);
        IEstimator<ITransformer> trainer = method switch
        {
            "knn" or "rbf" => ml.SemiSupervised().Trainers.LabelSpreading(new LabelSpreadingTrainer.Options { Kernel = Enum.Parse<LabelSpreadingKernel>(method, ignoreCase: true) }),
            "wad" => ml.SemiSupervised().Trainers.Wad(new WadTrainer.Options()),
            "wad-graph" => ml.SemiSupervised().Trainers.Wad(new WadTrainer.Options { Teacher = TeacherRule.Propagation }),
            _ => throw new ArgumentException($"Unknown method '{method}': knn, rbf, wad or wad-graph."),
        };
        GC.Collect();
        var before = Process.GetCurrentProcess().WorkingSet64;
        var watch = Stopwatch.StartNew();
        var model = trainer.Fit(view);
        var fit = watch.Elapsed.TotalSeconds;
        var fitPeak = Process.GetCurrentProcess().PeakWorkingSet64;
        var detail = model switch
        {
            LabelSpreadingTransformer spreading => $"{spreading.Model.Iterations} iterations, pool accuracy {spreading.Model.UnlabeledRows.Count(o => o.Class == truth[o.InputRow]) / (double)spreading.Model.UnlabeledRows.Count:F4}, unreached {spreading.Model.UnreachedRowCount}",
            SemiSupervisedTransformer wad => $"fell back to supervised {wad.Model.FellBackToSupervised}",
            _ => "",
        };
        watch.Restart();
        var accuracy = ml.SemiSupervised().Evaluate(model.Transform(test)).Accuracy;
        var predict = watch.Elapsed.TotalSeconds;
        Console.WriteLine($"rows {rows}, features {features}, method {method}, threads {Environment.ProcessorCount}: fit {fit:F1} s, {detail}, " +
                          $"working set before fit {before / 1e6:F0} MB, peak after fit {fitPeak / 1e6:F0} MB, " +
                          $"test accuracy {accuracy:F4}, predict 1000 test rows {predict:F2} s, peak after predict {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB");
    }

    /// <summary>LabelSpreading and LabelPropagation on the digits splits of docs/benchmarks.md (raw and standardised features), CSV on stdout.</summary>
    public static void Digits(int seeds)
    {
        var (features, labels) = DigitsMismatch.Load(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv"));
        Console.WriteLine("method,rho,seed,accuracy,macroF1,unknownAuroc,seconds");
        foreach (var rho in SemiSupervisedQuality.Mismatches)
        {
            for (var seed = 1; seed <= seeds; seed++)
            {
                var split = DigitsMismatch.Split(labels, rho, seed);
                var ml = new MLContext(seed);
                var (train, test) = DigitsMismatch.ToDataViews(ml, features, labels, split);
                var openTest = ml.Data.LoadFromEnumerable(split.Test.Concat(DigitsMismatch.UnknownOutsidePool(labels, split)).Select(i => new DigitsMismatch.Row { Label = labels[i], Features = features[i] }).ToList());
                foreach (var (propagation, standardise) in new[] { (false, false), (false, true), (true, false), (true, true) })
                {
                    var watch = Stopwatch.StartNew();
                    var model = ml.SemiSupervised().Trainers.LabelSpreading(new LabelSpreadingTrainer.Options
                    {
                        StandardizeFeatures = standardise,
                        HardClamping = propagation,
                        MaximumNumberOfIterations = propagation ? 1000 : 30,
                    }).Fit(train);
                    var seconds = watch.Elapsed.TotalSeconds;
                    var closed = ml.SemiSupervised().Evaluate(model.Transform(test));
                    var open = ml.SemiSupervised().Evaluate(model.Transform(openTest), confidenceColumnName: SemiSupervisedTransformer.KnownClassConfidenceColumnName);
                    Console.WriteLine(string.Join(',', (propagation ? "LabelPropagation" : "LabelSpreading") + (standardise ? "Standardised" : "Raw"), F(split.AchievedMismatch), seed.ToString(CultureInfo.InvariantCulture),
                        F(closed.Accuracy), F(closed.MacroF1), F(open.UnknownAuroc ?? double.NaN), F(seconds)));
                }
            }
        }
    }

    private static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static string F(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);
}
