using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Survival;

namespace Microsoft.ML.PaperExtensions.Benchmarks;

/// <summary>
/// The flexible survival fit on one million simulated rows with ten covariates on lambda and ten on gamma (free kappa),
/// and the Weibull special case, against ML.NET's own regression baseline on the same rows (an L-BFGS Poisson fit of
/// the log time, which is no survival model but what ML.NET offers). R's survreg on the same rows is timed by
/// survreg-baseline.R beside this file (see docs/benchmarks.md). Each runs once per launch.
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 0, iterationCount: 2)]
[MemoryDiagnoser]
public class SurvivalMillionRowsBenchmarks
{
    public const int Rows = 1_000_000;
    private MLContext _ml = null!;
    private IDataView _data = null!;

    public sealed class Row
    {
        public float Time { get; set; }

        public bool Event { get; set; }

        [VectorType(10)]
        public float[] Ph { get; set; } = [];

        [VectorType(10)]
        public float[] Shape { get; set; } = [];
    }

    /// <summary>APGW rows by inversion: kappa = 0.5, log lambda = 0.2 + x'b, log gamma = 0.1 + v'a, exponential censoring.</summary>
    public static IEnumerable<Row> Simulate(int n, int seed)
    {
        var random = new Random(seed);
        var b = Enumerable.Range(0, 10).Select(j => 0.3 * Math.Sin(j + 1)).ToArray();
        var a = Enumerable.Range(0, 10).Select(j => 0.1 * Math.Cos(j + 1)).ToArray();
        for (var i = 0; i < n; i++)
        {
            var x = Enumerable.Range(0, 10).Select(_ => random.NextDouble() * 2 - 1).ToArray();
            var v = Enumerable.Range(0, 10).Select(_ => random.NextDouble() * 2 - 1).ToArray();
            var d = new ApgwDistribution(1, Math.Exp(0.2 + x.Select((t, j) => t * b[j]).Sum()), Math.Exp(0.1 + v.Select((t, j) => t * a[j]).Sum()), 0.5);
            var time = d.Quantile(random.NextDouble());
            var censor = -Math.Log(1 - random.NextDouble()) / 0.3;
            yield return new Row { Time = (float)Math.Max(Math.Min(time, censor), 1e-6), Event = time <= censor, Ph = x.Select(t => (float)t).ToArray(), Shape = v.Select(t => (float)t).ToArray() };
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        _ml = new MLContext(seed: 1);
        _data = _ml.Data.Cache(_ml.Data.LoadFromEnumerable(Simulate(Rows, 1).ToArray()));
    }

    [Benchmark(Baseline = true)]
    public ITransformer MlNetPoissonRegressionOfTime() =>
        _ml.Transforms.Concatenate("Features", "Ph", "Shape").Append(_ml.Regression.Trainers.LbfgsPoissonRegression("Time")).Fit(_data);

    [Benchmark]
    public ITransformer ApgwFreeKappa() => _ml.Survival().Trainers.FlexibleParametric(new FlexibleSurvivalTrainer.Options
    {
        TimeColumnName = "Time", EventColumnName = "Event", PhFeatureColumnNames = ["Ph"], ShapeFeatureColumnNames = ["Shape"],
    }).Fit(_data);

    [Benchmark]
    public ITransformer Weibull() => _ml.Survival().Trainers.FlexibleParametric(new FlexibleSurvivalTrainer.Options
    {
        TimeColumnName = "Time", EventColumnName = "Event", PhFeatureColumnNames = ["Ph"], Kappa = 1,
    }).Fit(_data);
}
