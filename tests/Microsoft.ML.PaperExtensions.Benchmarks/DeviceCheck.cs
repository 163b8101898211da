using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Ordinal;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.SemiSupervised;
using Microsoft.ML.PaperExtensions.Survival;
using Microsoft.ML.PaperExtensions.TestSupport;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Benchmarks;

/// <summary>
/// <c>device-check [report.md]</c>: every trainer fitted on the CPU and on CUDA in one process, with wall times and the
/// largest difference between the two fits' key numbers. Made for a GPU machine (packed by ../shared/gpu/pack.sh, libtorch
/// from <c>LIBTORCH_DIR</c>); without CUDA it fits on the CPU only. A fit that throws is reported and the others go on;
/// the exit code is 1 when a fit threw or two fits disagree beyond the case's tolerance.
/// </summary>
internal static class DeviceCheck
{
    /// <summary>One workload: a fit on a device returning its key numbers, and how close CPU and CUDA must agree.</summary>
    private sealed record Case(string Name, Func<ComputeDevice, double[]> Fit, double Tolerance, string Compared);

    public static int Run(string? reportPath)
    {
        var info = TorchRuntime.EnsureInitialized();
        var report = new StringBuilder();
        void Say(string line)
        {
            Console.WriteLine(line);
            report.AppendLine(line);
        }
        Say($"TorchSharp {info.TorchSharpVersion}; libtorch {info.LibTorchDirectory ?? "from the TorchSharp package"}; CUDA devices: {info.CudaDeviceCount}" +
            (info.CudaProblem is null ? "" : $" ({info.CudaProblem})") + $"; {Environment.ProcessorCount} CPU cores");
        if (info.CudaAvailable)
        {
            // CUDA context and cuBLAS handle, so that the first timed fit does not pay for them.
            using var a = ones([256, 256], device: CUDA);
            _ = a.matmul(a).sum().item<float>();
        }
        var data = Path.Combine(AppContext.BaseDirectory, "data");
        var cases = new[] { VeteranCase(data), SoupCase(data), DigitsCase(data), MillionRowsCase(kappa: null), MillionRowsCase(kappa: 1), LargeOrdinalCase(crossValidate: false), LargeOrdinalCase(crossValidate: true) };
        var devices = info.CudaAvailable ? new[] { ComputeDevice.Cpu, ComputeDevice.Cuda } : [ComputeDevice.Cpu];
        Say("");
        Say("| workload | CPU | CUDA | compared | first of them, CPU / CUDA | largest difference | agree |");
        Say("|---|---:|---:|---|---|---:|---|");
        var failed = false;
        foreach (var c in cases)
        {
            var results = devices.Select(d => Time(c, d)).ToArray();
            foreach (var error in results.Where(r => r.Error is not null)) Console.Error.WriteLine($"{c.Name}: {error.Error}");
            string Cell(int i) => i >= results.Length ? "-" : results[i].Error is not null ? "threw" : $"{results[i].Seconds:F2} s";
            var both = results.Length == 2 && results.All(r => r.Values is not null);
            var difference = both ? results[0].Values!.Zip(results[1].Values!, (x, y) => Math.Abs(x - y) / Math.Max(1, Math.Abs(x))).Max() : double.NaN;
            var agree = !both ? "-" : difference <= c.Tolerance ? "yes" : $"NO (tolerance {c.Tolerance:G2})";
            failed |= results.Any(r => r.Error is not null) || agree.StartsWith("NO", StringComparison.Ordinal);
            var first = string.Join(" / ", results.Select(r => r.Values is null ? "-" : r.Values[0].ToString("G6", CultureInfo.InvariantCulture)));
            Say($"| {c.Name} | {Cell(0)} | {Cell(1)} | {c.Compared} | {first} | {(both ? difference.ToString("G3", CultureInfo.InvariantCulture) : "-")} | {agree} |");
        }
        Say("");
        Say("Differences are relative to max(1, |CPU value|). Times are one fit each, CPU first, after a warm-up of the");
        Say("managed code by the smaller workloads above them.");
        if (reportPath is not null) File.WriteAllText(reportPath, report.ToString());
        return failed ? 1 : 0;
    }

    private static (double Seconds, double[]? Values, string? Error) Time(Case c, ComputeDevice device)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            var values = c.Fit(device);
            return (watch.Elapsed.TotalSeconds, values, null);
        }
        catch (Exception e)
        {
            return (watch.Elapsed.TotalSeconds, null, $"{device}: {e}");
        }
    }

    private static Case VeteranCase(string data)
    {
        var ml = new MLContext(seed: 1);
        var veteran = ml.Data.LoadFromTextFile(Path.Combine(data, "veteran.csv"),
            [new TextLoader.Column("Trt", DataKind.Single, 0), new TextLoader.Column("Time", DataKind.Single, 2),
             new TextLoader.Column("Status", DataKind.Single, 3), new TextLoader.Column("Karnofsky", DataKind.Single, 4)],
            separatorChar: ',', hasHeader: true, allowQuoting: true);
        return new Case("Survival, veteran (137 rows), APGW free kappa", device =>
        {
            using var model = ml.Survival().Trainers.FlexibleParametric(new FlexibleSurvivalTrainer.Options
            {
                TimeColumnName = "Time", EventColumnName = "Status", PhFeatureColumnNames = ["Trt", "Karnofsky"], ShapeFeatureColumnNames = ["Trt"], Device = device,
            }).Fit(veteran);
            return SurvivalNumbers(model.Model);
        }, 1e-6, "logLik, coefficients, SEs");
    }

    private static Case MillionRowsCase(double? kappa)
    {
        var ml = new MLContext(seed: 1);
        var rows = ml.Data.Cache(ml.Data.LoadFromEnumerable(SurvivalMillionRowsBenchmarks.Simulate(SurvivalMillionRowsBenchmarks.Rows, 1).ToArray()));
        return new Case($"Survival, 1,000,000 rows, {(kappa is null ? "free kappa, 10 + 10 covariates" : "Weibull, 10 covariates")}", device =>
        {
            using var model = ml.Survival().Trainers.FlexibleParametric(new FlexibleSurvivalTrainer.Options
            {
                TimeColumnName = "Time", EventColumnName = "Event", PhFeatureColumnNames = ["Ph"], ShapeFeatureColumnNames = kappa is null ? ["Shape"] : [], Kappa = kappa, Device = device,
            }).Fit(rows);
            return SurvivalNumbers(model.Model);
        }, 1e-6, "logLik, coefficients, SEs");
    }

    private static double[] SurvivalNumbers(FlexibleSurvivalModel model) =>
        [model.LogLikelihood, .. model.Coefficients.Select(c => c.Estimate), .. model.Coefficients.Where(c => !c.Fixed).Select(c => c.StandardError)];

    private static Case SoupCase(string data)
    {
        var ml = new MLContext(seed: 1);
        var soup = ml.Data.Cache(SoupFeatures.Load(ml, Path.Combine(data, "soup.csv")));
        return new Case("PRESTO, soup (1,847 rows), 5-fold CV path + refit", device =>
            OrdinalNumbers(ml.Ordinal().Trainers.Presto(new PrestoTrainer.Options { Seed = 1, Device = device }).Fit(soup).Model), 1e-6, "logLik, lambda, coefficients");
    }

    private static Case LargeOrdinalCase(bool crossValidate)
    {
        var ml = new MLContext(seed: 1);
        var rows = PrestoLargeBenchmarks.Simulate(ml, 100_000);
        return new Case($"PRESTO, 100,000 x 50, {(crossValidate ? "5-fold CV path + refit" : "one fit at lambda 0.001")}", device =>
        {
            var options = new PrestoTrainer.Options { Seed = 1, Device = device };
            if (!crossValidate) options.Lambda = 0.001;
            return OrdinalNumbers(ml.Ordinal().Trainers.Presto(options).Fit(rows).Model);
        }, 1e-6, "logLik, lambda, coefficients");
    }

    private static double[] OrdinalNumbers(OrdinalModel model) =>
        [model.LogLikelihood, model.Lambda, .. model.Intercepts, .. model.Weights.SelectMany(w => w)];

    private static Case DigitsCase(string data)
    {
        var (features, labels) = DigitsMismatch.Load(Path.Combine(data, "digits.csv"));
        var split = DigitsMismatch.Split(labels, 0.6, 1);
        // Float32 networks trained for thousands of steps: CPU and CUDA kernels round differently, so only the outcome is compared,
        // within about two seed-to-seed SDs of the accuracy (docs/benchmarks.md).
        return new Case("WAD, digits (rho 0.6, 1,191 rows), teacher + 6 rounds", device =>
        {
            var r = DigitsMismatch.Run(new MLContext(seed: 1), features, labels, split, SemiSupervisedMethod.Wad, seed: 1, o => o.Device = device);
            return [r.Accuracy, r.MeanWeightKnown, r.MeanWeightUnknown];
        }, 0.05, "test accuracy, mean weights");
    }
}
