// The demo: every component of Microsoft.ML.PaperExtensions that exists, on the bundled real data (samples/data).
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions;
using Microsoft.ML.PaperExtensions.Runtime;

var ml = new MLContext(seed: 1);
var dataFolder = Path.Combine(AppContext.BaseDirectory, "data");

var runtime = TorchRuntime.EnsureInitialized();
Console.WriteLine("Microsoft.ML.PaperExtensions demo");
Console.WriteLine($"TorchSharp {runtime.TorchSharpVersion}; libtorch from {runtime.LibTorchDirectory ?? "the TorchSharp package"}; " +
                  $"training device (Auto): {TorchRuntime.ResolveDevice(ComputeDevice.Auto, ml)}");
Console.WriteLine();

// Survival: Harrell's C-index of the Karnofsky performance score on the VA lung cancer trial.
var veteran = ml.Data.LoadFromTextFile(Path.Combine(dataFolder, "veteran.csv"),
    [new TextLoader.Column("Time", DataKind.Single, 2), new TextLoader.Column("Status", DataKind.Single, 3), new TextLoader.Column("Karnofsky", DataKind.Single, 4)],
    separatorChar: ',', hasHeader: true, allowQuoting: true);
var cIndex = ml.Survival().ConcordanceIndex(veteran, "Time", "Status", "Karnofsky");
Console.WriteLine("Survival: veteran.csv (VA lung cancer trial)");
Console.WriteLine($"  Harrell's C of the Karnofsky score: {cIndex.ConcordanceIndex:F4} over {cIndex.Comparable} comparable pairs " +
                  "(R survival::concordance gives 0.7093)");
Console.WriteLine();

// Ordinal: soup.csv, class k = 7 - SURENESS so that the rare class ("reference, sure") is the last.
var soup = ml.Data.LoadFromTextFile(Path.Combine(dataFolder, "soup.csv"),
    [new TextLoader.Column("Sureness", DataKind.Single, 3)], separatorChar: ',', hasHeader: true, allowQuoting: true);
var classes = soup.GetColumn<float>("Sureness").Select(s => 6 - (int)s).ToArray(); // 0-based: class index 5 is k = 6
var frequencies = Enumerable.Range(0, 6).Select(k => (float)classes.Count(c => c == k) / classes.Length).ToArray();
var baseline = ml.Data.LoadFromEnumerable(classes.Select(c => new Scored { Label = c, Score = frequencies }));
var metrics = ml.Ordinal().Evaluate(baseline);
Console.WriteLine($"Ordinal: soup.csv ({metrics.RowCount} ratings, {metrics.ClassCount} ordered classes, rare class share {frequencies[^1]:P1})");
Console.WriteLine("  Baseline that predicts the class shares for every rating:");
Console.WriteLine($"  Brier {metrics.BrierScore:F4}  RPS {metrics.RankedProbabilityScore:F4}  log-loss {metrics.LogLoss:F4}  " +
                  $"rare-class Brier {metrics.RareClassBrierScore:F4}  rare-class calibration error {metrics.RareClassCalibrationError:F5}");

internal sealed class Scored
{
    public float Label { get; set; }

    [VectorType(6)]
    public float[] Score { get; set; } = [];
}
