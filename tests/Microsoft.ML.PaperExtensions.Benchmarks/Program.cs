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
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
