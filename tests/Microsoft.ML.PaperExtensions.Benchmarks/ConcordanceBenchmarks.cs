using BenchmarkDotNet.Attributes;
using Microsoft.ML.PaperExtensions.Metrics;

namespace Microsoft.ML.PaperExtensions.Benchmarks;

/// <summary>Harrell's C-index: the package's O(n log n) sweep against the direct O(n^2) pair count.</summary>
public class ConcordanceBenchmarks
{
    private double[] _time = [];
    private bool[] _event = [];
    private double[] _prediction = [];

    [Params(10_000)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        _time = Enumerable.Range(0, Rows).Select(_ => Math.Round(random.NextDouble() * 1000)).ToArray();
        _event = Enumerable.Range(0, Rows).Select(_ => random.NextDouble() < 0.7).ToArray();
        _prediction = Enumerable.Range(0, Rows).Select(i => _time[i] + random.NextDouble() * 500).ToArray();
    }

    [Benchmark(Baseline = true)]
    public double AllPairs()
    {
        long concordant = 0, tied = 0, comparable = 0;
        for (var i = 0; i < _time.Length; i++)
        {
            if (!_event[i]) continue;
            for (var j = 0; j < _time.Length; j++)
            {
                if (!(_time[i] < _time[j] || (_time[i] == _time[j] && !_event[j]))) continue;
                comparable++;
                if (_prediction[i] < _prediction[j]) concordant++;
                else if (_prediction[i] == _prediction[j]) tied++;
            }
        }
        return (concordant + 0.5 * tied) / comparable;
    }

    [Benchmark]
    public double Sweep() => SurvivalMetrics.ConcordanceIndex(_time, _event, _prediction).ConcordanceIndex;
}
