using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.PaperExtensions.SemiSupervised;
using Microsoft.ML.PaperExtensions.TestSupport;

namespace Microsoft.ML.PaperExtensions.Benchmarks;

/// <summary>
/// The digits class-mismatch comparison of docs/benchmarks.md: WAD and the three baselines over rho and seeds
/// (<c>./build.sh bench digits-mismatch [seeds]</c>), and the splits for the scikit-learn LabelSpreading reference
/// (<c>./build.sh bench digits-splits &lt;folder&gt; [seeds]</c>, read by label-spreading-reference.py).
/// </summary>
internal static class SemiSupervisedQuality
{
    public static readonly double[] Mismatches = [0, 0.3, 0.6];

    private static (float[][] Features, int[] Labels) Digits() => DigitsMismatch.Load(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv"));

    public static void Compare((int First, int Last) seeds, IReadOnlyList<SemiSupervisedMethod> methods, IReadOnlyList<string> settings)
    {
        var mismatches = settings.FirstOrDefault(s => s.StartsWith("rho=", StringComparison.Ordinal)) is { } list
            ? list[4..].Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()
            : Mismatches;
        void Configure(WadTrainer.Options options) => Apply(options, settings.Where(s => !s.StartsWith("rho=", StringComparison.Ordinal)));
        var (features, labels) = Digits();
        Console.WriteLine("method,rho,seed,accuracy,macroF1,meanWeightKnown,meanWeightUnknown,weightAuc,seconds,pseudoLabelAccuracyKnown,unknownAuroc");
        foreach (var rho in mismatches)
        {
            for (var seed = seeds.First; seed <= seeds.Last; seed++)
            {
                var split = DigitsMismatch.Split(labels, rho, seed);
                foreach (var method in methods)
                {
                    var r = DigitsMismatch.Run(new MLContext(seed), features, labels, split, method, seed, Configure);
                    Console.WriteLine(string.Join(',', [r.Method.ToString(), F(r.Mismatch), seed.ToString(CultureInfo.InvariantCulture), F(r.Accuracy), F(r.MacroF1),
                        F(r.MeanWeightKnown), F(r.MeanWeightUnknown), F(r.WeightAuc), F(r.Seconds), F(r.PseudoLabelAccuracyKnown), F(r.UnknownAuroc)]));
                }
            }
        }
    }

    /// <summary>Sets <see cref="WadTrainer.Options"/> properties from "Name=value" strings (enums by name).</summary>
    public static void Apply(WadTrainer.Options options, IEnumerable<string> settings)
    {
        foreach (var setting in settings)
        {
            var (name, value) = (setting[..setting.IndexOf('=')], setting[(setting.IndexOf('=') + 1)..]);
            var property = typeof(WadTrainer.Options).GetProperty(name) ?? throw new ArgumentException($"WadTrainer.Options has no {name}.");
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            property.SetValue(options, type.IsEnum ? Enum.Parse(type, value) : Convert.ChangeType(value, type, CultureInfo.InvariantCulture));
        }
    }

    public static void ExportSplits(string folder, int seeds)
    {
        var (_, labels) = Digits();
        Directory.CreateDirectory(folder);
        using var writer = new StreamWriter(Path.Combine(folder, "digits-splits.csv"));
        writer.WriteLine("rho,seed,row,role");
        foreach (var rho in Mismatches)
        {
            for (var seed = 1; seed <= seeds; seed++)
            {
                var split = DigitsMismatch.Split(labels, rho, seed);
                foreach (var (rows, role) in new[] { (split.Labeled, "labeled"), (split.Unlabeled, "unlabeled"), (split.Test, "test") })
                {
                    foreach (var row in rows) writer.WriteLine($"{F(rho)},{seed},{row},{role}");
                }
            }
        }
    }

    private static string F(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);
}
