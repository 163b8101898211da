using BenchmarkDotNet.Attributes;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;

namespace Microsoft.ML.PaperExtensions.Benchmarks;

/// <summary>
/// Reading a feature matrix out of an IDataView: the package's one-pass cursor reader against the common
/// <c>GetColumn&lt;T&gt;().ToArray()</c> chain (one pass per column, boxed arrays per row) followed by a copy into a matrix.
/// </summary>
[MemoryDiagnoser]
public class DataViewReaderBenchmarks
{
    private IDataView _data = null!;

    [Params(200_000)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        var rows = Enumerable.Range(0, Rows).Select(_ => new Row
        {
            Features = Enumerable.Range(0, 20).Select(_ => (float)random.NextDouble()).ToArray(),
            Extra = random.NextDouble(),
            Label = (float)random.NextDouble(),
        }).ToArray();
        // Cached, so that both methods measure reading rather than enumerating the source objects.
        var ml = new MLContext(seed: 1);
        _data = ml.Data.Cache(ml.Data.LoadFromEnumerable(rows));
        _ = Reader();
    }

    [Benchmark(Baseline = true)]
    public double[] GetColumnChain()
    {
        var features = _data.GetColumn<float[]>("Features").ToArray();
        var extra = _data.GetColumn<double>("Extra").ToArray();
        var label = _data.GetColumn<float>("Label").ToArray();
        var matrix = new double[features.Length * 21];
        for (var i = 0; i < features.Length; i++)
        {
            for (var j = 0; j < 20; j++) matrix[i * 21 + j] = features[i][j];
            matrix[i * 21 + 20] = extra[i];
        }
        return label.Length == features.Length ? matrix : [];
    }

    [Benchmark]
    public double[] Reader() => DataViewReader.Read(_data, new DataViewReader.Request(["Features", "Extra"], "Label")).Features;

    private sealed class Row
    {
        [VectorType(20)]
        public float[] Features { get; set; } = [];

        public double Extra { get; set; }

        public float Label { get; set; }
    }
}
