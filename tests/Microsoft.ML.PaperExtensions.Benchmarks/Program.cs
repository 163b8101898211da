using System.Globalization;
using BenchmarkDotNet.Running;
using Microsoft.ML.PaperExtensions.Benchmarks;

// ./build.sh bench [BenchmarkDotNet arguments], for example: ./build.sh bench --filter '*Concordance*'
// ./build.sh bench export-survival-csv <file>: writes the million-row survival data for survreg-baseline.R.
if (args is ["export-survival-csv", var path])
{
    using var writer = new StreamWriter(path);
    writer.WriteLine(string.Join(',', ["Time", "Event", .. Enumerable.Range(0, 10).Select(j => $"ph{j}"), .. Enumerable.Range(0, 10).Select(j => $"shape{j}")]));
    foreach (var row in SurvivalMillionRowsBenchmarks.Simulate(SurvivalMillionRowsBenchmarks.Rows, 1))
    {
        writer.WriteLine(string.Join(',', [row.Time.ToString("R", CultureInfo.InvariantCulture), row.Event ? "1" : "0",
            .. row.Ph.Concat(row.Shape).Select(v => v.ToString("R", CultureInfo.InvariantCulture))]));
    }
    return 0;
}
// ./build.sh bench digits-mismatch [seeds: n for 1-n, or first-last] [methods] [Option=value ...]: the semi-supervised comparison on digits (CSV on
// stdout), optionally with WadTrainer.Options set (for example CorruptionRate=0.3) and other rho values (rho=0.3,0.6).
// ./build.sh bench digits-splits <folder> [seeds]: the same splits for label-spreading-reference.py.
if (args is ["digits-mismatch", .. var rest])
{
    var seeds = rest.Length > 0 ? SeedRange(rest[0]) : (1, 5);
    var methods = rest.Length > 1 ? rest[1].Split(',').Select(Enum.Parse<Microsoft.ML.PaperExtensions.SemiSupervised.SemiSupervisedMethod>).ToArray() : Enum.GetValues<Microsoft.ML.PaperExtensions.SemiSupervised.SemiSupervisedMethod>();
    SemiSupervisedQuality.Compare(seeds, methods, rest.Skip(2).ToArray());
    return 0;
}
if (args is ["digits-splits", var folder, .. var more])
{
    SemiSupervisedQuality.ExportSplits(folder, more.Length > 0 ? int.Parse(more[0], CultureInfo.InvariantCulture) : 5);
    return 0;
}
// ./build.sh bench scalar-race <seconds> <other thread: 0 none, 1 allocates in a loop, 2 collects every 100 ms, 3 every 1 ms> <tensor size> <gated: 0|1>:
// small tensor arithmetic with and without TorchFinalizerGate while another thread allocates (docs/benchmarks.md, "TorchSharp's scalar race and the finalizer gate").
if (args is ["scalar-race", var raceSeconds, var raceAllocate, var raceSize, var raceGated])
{
    ScalarRaceProbe.Run(int.Parse(raceSeconds, CultureInfo.InvariantCulture), int.Parse(raceAllocate, CultureInfo.InvariantCulture), int.Parse(raceSize, CultureInfo.InvariantCulture), raceGated == "1");
    return 0;
}
// ./build.sh bench ordinal-ensemble [seeds: n for 1-n, or first-last]: ensemble selection over seven ordinal models against PRESTO's defaults
// on soup.csv (OrdinalEnsembleProbe.cs); CSV on stdout.
if (args is ["ordinal-ensemble", .. var ensembleSeeds])
{
    OrdinalEnsembleProbe.Run(ensembleSeeds.Length > 0 ? SeedRange(ensembleSeeds[0]) : (1, 10));
    return 0;
}
// ./build.sh bench automl-quality [seeds: n for 1-n, or first-last] [tasks] [arms]: defaults, random search, the cost-frugal tuner and SMAC on ordinal, lung,
// veteran and digits at the same budget, scored on held-out rows (AutoMLQuality.cs); CSV on stdout.
if (args is ["automl-quality", .. var automl])
{
    AutoMLQuality.Run(automl.Length > 0 ? SeedRange(automl[0]) : (1, 3),
        automl.Length > 1 ? automl[1].Split(',') : ["ordinal", "lung", "veteran", "digits"],
        automl.Length > 2 ? automl[2].Split(',') : ["defaults", "random", "cfo", "smac"]);
    return 0;
}
// ./build.sh bench labelspreading-scale [rows] [features] [knn|rbf|wad|wad-graph]: fit time and peak memory of LabelSpreading
// (or WAD) on a Gaussian mixture; ./build.sh bench labelspreading-digits [seeds]: LabelSpreading and LabelPropagation on the digits mismatch splits.
if (args is ["labelspreading-scale", .. var scale])
{
    LabelSpreadingQuality.Scale(scale.Length > 0 ? int.Parse(scale[0], CultureInfo.InvariantCulture) : 50_000, scale.Length > 1 ? int.Parse(scale[1], CultureInfo.InvariantCulture) : 50,
        scale.Length > 2 ? scale[2] : "knn");
    return 0;
}
if (args is ["labelspreading-digits", .. var lsSeeds])
{
    LabelSpreadingQuality.Digits(lsSeeds.Length > 0 ? int.Parse(lsSeeds[0], CultureInfo.InvariantCulture) : 5);
    return 0;
}
// ./build.sh bench safe-default <file.csv> [seeds: n for 1-n, or first-last] [labels per class] [methods] [Option=value ...]: WAD's safe default against supervised-only and
// label spreading (methods: wad-default, wad-unguarded, supervised, labelspreading, wad-graph, wad-graph-unguarded, wad-graph-neighbors, wad-graph-neighbors-unguarded) on a numeric CSV whose class column is `label` (SafeDefaultQuality.cs).
if (args is ["safe-default", var safeFile, .. var safeArgs])
{
    SafeDefaultQuality.Run(safeFile, safeArgs.Length > 0 ? SeedRange(safeArgs[0]) : (1, 3),
        safeArgs.Length > 1 ? int.Parse(safeArgs[1], CultureInfo.InvariantCulture) : 5, safeArgs.Length > 2 ? safeArgs[2].Split(',') : null, safeArgs.Skip(3).ToArray());
    return 0;
}
// ./build.sh bench presto-simulation [replicates]: the PRESTO paper's simulations 4.1 and 4.2 (PrestoSimulation.cs), median
// rare-class MSE ratios of PRESTO against proportional odds and a separate logistic regression, next to the paper's.
if (args is ["presto-simulation", .. var count])
{
    PrestoSimulationReport.Run(count.Length > 0 ? int.Parse(count[0], CultureInfo.InvariantCulture) : 20);
    return 0;
}
// ./build.sh bench finetune-quality <train.csv> <test.csv> [seeds] [methods]: MiniLM fine-tuned by each method against two
// ML.NET baselines (FineTuningQuality.cs); seeds "3" (1 to 3) or "2-3"; methods: lora,rslora,dora,allora,full,
// featurizetext-sdca,frozen-embedding-lbfgs; a fine-tuning method may take "-sgd" (SGD, momentum 0.9) and ":<learning rate>",
// e.g. lora-sgd:0.01.
if (args is ["finetune-quality", var trainFile, var testFile, .. var options])
{
    var range = (options.Length > 0 ? options[0] : "3").Split('-').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
    FineTuningQuality.Run(trainFile, testFile, range.Length == 1 ? Enumerable.Range(1, range[0]).ToArray() : Enumerable.Range(range[0], range[1] - range[0] + 1).ToArray(),
        options.Length > 1 ? options[1].Split(',') : ["featurizetext-sdca", "frozen-embedding-lbfgs", "lora", "rslora", "dora", "allora", "full"]);
    return 0;
}
// ./build.sh bench quantize-quality <train.csv> <test.csv> [methods] [bits] [group] [finetuned]: MiniLM quantized by each method,
// embeddings and classifiers compared with full precision (QuantizationQuality.cs); methods rtn,awq,gwq,adadim,flexround; bits "4,3".
if (args is ["quantize-quality", var calibrationFile, var evalFile, .. var settings])
{
    QuantizationQuality.Run(calibrationFile, evalFile,
        (settings.Length > 0 ? settings[0] : "rtn,awq,gwq,adadim,flexround").Split(',').Select(m => Enum.Parse<Microsoft.ML.PaperExtensions.Quantization.QuantizationMethod>(m, ignoreCase: true)).ToArray(),
        (settings.Length > 1 ? settings[1] : "4,3").Split(',').Select(b => int.Parse(b, CultureInfo.InvariantCulture)).ToArray(),
        settings.Length > 2 ? int.Parse(settings[2], CultureInfo.InvariantCulture) : 128, settings.Length > 3 && settings[3] == "finetuned");
    return 0;
}
// ./build.sh bench device-check [report.md]: every trainer on the CPU and on CUDA, timed and compared (DeviceCheck.cs).
if (args is ["device-check", .. var report])
{
    return DeviceCheck.Run(report.FirstOrDefault());
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;

// "5" is seeds 1-5; "6-10" adds seeds to an earlier run.
static (int First, int Last) SeedRange(string text) => text.Split('-') is [var first, var last]
    ? (int.Parse(first, CultureInfo.InvariantCulture), int.Parse(last, CultureInfo.InvariantCulture))
    : (1, int.Parse(text, CultureInfo.InvariantCulture));
