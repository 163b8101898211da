using BenchmarkDotNet.Attributes;
using Microsoft.ML.PaperExtensions.SemiSupervised;
using Microsoft.ML.PaperExtensions.TestSupport;

namespace Microsoft.ML.PaperExtensions.Benchmarks;

/// <summary>
/// WAD's training time on digits.csv at rho = 0.6 (teacher plus all rounds, default options), against the supervised-only
/// baseline (the same student without teacher or pool) and ML.NET's L-BFGS maximum entropy on the 18 labelled rows.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 0, iterationCount: 3)]
public class SemiSupervisedDigitsBenchmarks
{
    private readonly MLContext _ml = new(seed: 1);
    private IDataView _train = null!;
    private IDataView _labeled = null!;

    [GlobalSetup]
    public void Setup()
    {
        var (features, labels) = DigitsMismatch.Load(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv"));
        var split = DigitsMismatch.Split(labels, 0.6, 1);
        _train = _ml.Data.Cache(DigitsMismatch.ToDataViews(_ml, features, labels, split).Train);
        _labeled = _ml.Transforms.Conversion.MapValueToKey("Label").Fit(_ml.Data.FilterRowsByMissingValues(_train, "Label")).Transform(_ml.Data.FilterRowsByMissingValues(_train, "Label"));
    }

    [Benchmark(Baseline = true)]
    public ITransformer MlNetLbfgsOnLabeledRows() => _ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy().Fit(_labeled);

    [Benchmark]
    public ITransformer SupervisedOnly() => _ml.SemiSupervised().Trainers.Wad(method: SemiSupervisedMethod.SupervisedOnly, seed: 1).Fit(_train);

    [Benchmark]
    public ITransformer Wad() => _ml.SemiSupervised().Trainers.Wad(seed: 1).Fit(_train);
}
