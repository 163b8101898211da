using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.SemiSupervised;

namespace Microsoft.ML.PaperExtensions.Benchmarks;

/// <summary>
/// The safe default on a data set of numeric columns with a class column <c>label</c> (<c>./build.sh bench safe-default
/// &lt;file.csv&gt; [seeds] [labels per class] [methods] [Option=value ...]</c>; reference/safe-default/export-datasets.py writes scikit-learn's bundled
/// sets): per seed, 30% of each class held out for testing, the given number of labelled rows per class, the rest unlabelled;
/// WAD with its defaults (safeguard on), WAD with the safeguard off, supervised-only and label spreading (defaults). CSV on stdout.
/// </summary>
internal static class SafeDefaultQuality
{
    private sealed class Row
    {
        public float Label { get; set; }

        [VectorType]
        public float[] Features { get; set; } = [];
    }

    public static void Run(string path, (int First, int Last) seeds, int labelsPerClass, IReadOnlyList<string>? methods = null, IReadOnlyList<string>? settings = null)
    {
        var lines = File.ReadAllLines(path).Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        var p = lines[0].Length - 1;
        var name = Path.GetFileNameWithoutExtension(path);
        WadTrainer.Options Configured(WadTrainer.Options options)
        {
            SemiSupervisedQuality.Apply(options, settings ?? []);
            return options;
        }
        Console.WriteLine("data,seed,method,accuracy,fellBack,cvSemi,cvSupervised,seconds");
        for (var seed = seeds.First; seed <= seeds.Last; seed++)
        {
            var random = new Random(seed);
            var train = new List<Row>();
            var test = new List<Row>();
            foreach (var group in lines.GroupBy(l => l[p]))
            {
                var rows = group.ToArray();
                random.Shuffle(rows);
                var testCount = (int)Math.Round(0.3 * rows.Length);
                for (var i = 0; i < rows.Length; i++)
                {
                    var row = new Row { Label = i < testCount || i - testCount < labelsPerClass ? (float)rows[i][p] : float.NaN, Features = rows[i][..p].Select(v => (float)v).ToArray() };
                    (i < testCount ? test : train).Add(row);
                }
            }
            var ml = new MLContext(seed);
            var schema = SchemaDefinition.Create(typeof(Row));
            schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, p);
            var trainView = ml.Data.LoadFromEnumerable(train, schema);
            var testView = ml.Data.LoadFromEnumerable(test, schema);
            foreach (var method in methods ?? ["wad-default", "wad-unguarded", "supervised", "labelspreading"])
            {
                var watch = Stopwatch.StartNew();
                ITransformer model = method == "labelspreading"
                    ? ml.SemiSupervised().Trainers.LabelSpreading().Fit(trainView)
                    : ml.SemiSupervised().Trainers.Wad(Configured(new WadTrainer.Options
                    {
                        Method = method == "supervised" ? SemiSupervisedMethod.SupervisedOnly : SemiSupervisedMethod.Wad,
                        FallBackToSupervised = !method.EndsWith("-unguarded", StringComparison.Ordinal),
                        Teacher = method.StartsWith("wad-graph", StringComparison.Ordinal) ? TeacherRule.Propagation : TeacherRule.Anchor,
                        Student = method.StartsWith("wad-graph-neighbors", StringComparison.Ordinal) ? StudentRule.Neighbors : StudentRule.Network,
                        Seed = seed,
                    })).Fit(trainView);
                var seconds = watch.Elapsed.TotalSeconds;
                var evaluation = ml.SemiSupervised().Evaluate(model.Transform(testView));
                var wad = (model as SemiSupervisedTransformer)?.Model;
                Console.WriteLine(string.Join(',', name, seed.ToString(CultureInfo.InvariantCulture), method, F(evaluation.Accuracy),
                    wad is null ? "" : wad.FellBackToSupervised ? "1" : "0", F(wad?.SafeguardAccuracy?.SemiSupervised), F(wad?.SafeguardAccuracy?.Supervised), F(seconds)));
            }
        }
    }

    private static string F(double? v) => v is { } x ? x.ToString("0.####", CultureInfo.InvariantCulture) : "";
}
