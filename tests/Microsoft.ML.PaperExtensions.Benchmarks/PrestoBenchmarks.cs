using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.TestSupport;

namespace Microsoft.ML.PaperExtensions.Benchmarks;

/// <summary>
/// PRESTO's full cross-validated path on soup.csv with the paper's 22 dummies (5 folds x 20 lambdas + refit), against
/// what ML.NET offers for the same data today (its L-BFGS multinomial logit) and the proportional-odds fit.
/// </summary>
[MemoryDiagnoser]
public class PrestoSoupBenchmarks
{
    private MLContext _ml = null!;
    private IDataView _soup = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ml = new MLContext(seed: 1);
        _soup = _ml.Data.Cache(SoupFeatures.Load(_ml, Path.Combine(AppContext.BaseDirectory, "data", "soup.csv")));
        PrestoCrossValidatedPath();
    }

    [Benchmark(Baseline = true)]
    public ITransformer MlNetLbfgsMaximumEntropy() => _ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy().Fit(_soup);

    [Benchmark]
    public ITransformer ProportionalOdds() => _ml.Ordinal().Trainers.ProportionalOdds().Fit(_soup);

    [Benchmark]
    public ITransformer PrestoCrossValidatedPath() => _ml.Ordinal().Trainers.Presto(new Ordinal.PrestoTrainer.Options { Seed = 1 }).Fit(_soup);
}

/// <summary>
/// A large ordinal problem, n = 100,000, p = 50, K = 4 (simulated as the paper's dense design): one PRESTO fit at a
/// fixed lambda, and the full cross-validated path, against ML.NET's L-BFGS multinomial logit. Each runs once per launch.
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 0, iterationCount: 2)]
[MemoryDiagnoser]
public class PrestoLargeBenchmarks
{
    private MLContext _ml = null!;
    private IDataView _data = null!;

    public sealed class Row
    {
        public uint Label { get; set; }

        [VectorType(50)]
        public float[] Features { get; set; } = [];
    }

    /// <summary>n rows of the paper's dense design with four ordered classes, as a cached view with a key label.</summary>
    public static IDataView Simulate(MLContext ml, int n)
    {
        var random = new Random(1);
        var beta = new double[3][];
        beta[0] = Enumerable.Range(0, 50).Select(_ => random.NextDouble() - 0.5).ToArray();
        for (var k = 1; k < 3; k++) beta[k] = beta[k - 1].Select(b => b + (random.NextDouble() - 0.5) * 0.2).ToArray();
        double[] alpha = [-1, 1, 3.5];
        var rows = Enumerable.Range(0, n).Select(_ =>
        {
            var x = Enumerable.Range(0, 50).Select(_ => random.NextDouble() * 2 - 1).ToArray();
            var u = random.NextDouble();
            uint label = 4;
            for (var k = 0; k < 3; k++)
            {
                if (u < 1 / (1 + Math.Exp(-(alpha[k] + x.Select((v, j) => v * beta[k][j]).Sum())))) { label = (uint)k + 1; break; }
            }
            return new Row { Label = label, Features = x.Select(v => (float)v).ToArray() };
        }).ToArray();
        var view = ml.Data.LoadFromEnumerable(rows);
        var keys = ml.Data.LoadFromEnumerable(Enumerable.Range(1, 4).Select(k => new { Label = (uint)k }));
        return ml.Data.Cache(ml.Transforms.Conversion.MapValueToKey("Label", keyData: keys).Fit(view).Transform(view));
    }

    [GlobalSetup]
    public void Setup()
    {
        _ml = new MLContext(seed: 1);
        _data = Simulate(_ml, 100_000);
    }

    [Benchmark(Baseline = true)]
    public ITransformer MlNetLbfgsMaximumEntropy() => _ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy().Fit(_data);

    [Benchmark]
    public ITransformer PrestoFixedLambda() => _ml.Ordinal().Trainers.Presto(lambda: 0.001).Fit(_data);

    [Benchmark]
    public ITransformer PrestoCrossValidatedPath() => _ml.Ordinal().Trainers.Presto(new Ordinal.PrestoTrainer.Options { Seed = 1 }).Fit(_data);
}
