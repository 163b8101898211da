using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.SemiSupervised;

namespace Microsoft.ML.PaperExtensions.Tests.SemiSupervised;

/// <summary>
/// The synthetic class-mismatch data of the WAD spec (section 5): d = 10, three known clusters at 3 e_0, 3 e_1, 3 e_2
/// (sigma 1), and two unknown clusters that are either far (4.5 (e_3 + e_4) and 4.5 (e_5 + e_6), distance 7.0 from every
/// known mean) or near (the midpoints 1.5 (e_0 + e_1) and 1.5 (e_1 + e_2)). Labelled rows come first, then the pool.
/// </summary>
internal sealed class MismatchMixture
{
    public const int Dimension = 10;

    public sealed class Row
    {
        public float Label { get; set; }

        [VectorType(Dimension)]
        public float[] Features { get; set; } = [];
    }

    public sealed class Prediction
    {
        [VectorType(3)]
        public float[] Score { get; set; } = [];

        public uint PredictedLabel { get; set; }

        public float KnownClassSimilarity { get; set; }
    }

    public required Row[] Train { get; init; }

    public required Row[] Test { get; init; }

    /// <summary>True cluster of each training row (0-2 known, 3-4 unknown).</summary>
    public required int[] Cluster { get; init; }

    public int LabeledCount => Cluster.Length - Train.Count(r => float.IsNaN(r.Label));

    public static MismatchMixture Create(double rho, bool near, int seed, int labeledPerClass = 10, int unlabeledPerClass = 300, int testPerClass = 300)
    {
        // Separate streams: the known rows and the test rows are the same for every rho; only unknown rows are added.
        var random = new Random(seed);
        var unknownRandom = new Random(seed + 1000);
        var testRandom = new Random(seed + 2000);
        var known = Enumerable.Range(0, 3).Select(k => Axis(k, 3)).ToArray();
        var unknown = near
            ? new[] { Add(Axis(0, 1.5), Axis(1, 1.5)), Add(Axis(1, 1.5), Axis(2, 1.5)) }
            : new[] { Add(Axis(3, 4.5), Axis(4, 4.5)), Add(Axis(5, 4.5), Axis(6, 4.5)) };
        var train = new List<Row>();
        var cluster = new List<int>();
        for (var k = 0; k < 3; k++)
        {
            for (var i = 0; i < labeledPerClass; i++) { train.Add(new Row { Label = k, Features = Draw(known[k], random) }); cluster.Add(k); }
        }
        for (var k = 0; k < 3; k++)
        {
            for (var i = 0; i < unlabeledPerClass; i++) { train.Add(new Row { Label = float.NaN, Features = Draw(known[k], random) }); cluster.Add(k); }
        }
        var unknownRows = (int)Math.Ceiling(rho * 3 * unlabeledPerClass / (1 - rho) - 1e-9);
        for (var i = 0; i < unknownRows; i++)
        {
            train.Add(new Row { Label = float.NaN, Features = Draw(unknown[i % 2], unknownRandom) });
            cluster.Add(3 + i % 2);
        }
        var test = Enumerable.Range(0, 3 * testPerClass).Select(i => new Row { Label = i % 3, Features = Draw(known[i % 3], testRandom) }).ToArray();
        return new MismatchMixture { Train = [.. train], Test = test, Cluster = [.. cluster] };
    }

    /// <summary>
    /// Small, fast settings for unit tests (the defaults are sized for real data). The safeguard is off: these tests check the
    /// method itself; SafeguardTests check the fall-back.
    /// </summary>
    public static WadTrainer.Options FastOptions(SemiSupervisedMethod method, int seed) => new()
    {
        FallBackToSupervised = false,
        Method = method,
        Seed = seed,
        EncoderWidth = 64,
        ProjectionDimension = 32,
        TeacherEpochs = 15,
        StudentHiddenWidth = 32,
        StudentIterationsPerRound = 150,
        SelfTrainingMaxIterations = 5,
    };

    /// <summary>Known-class accuracy on the test rows.</summary>
    public double TestAccuracy(MLContext ml, ITransformer model)
    {
        var predicted = model.Transform(ml.Data.LoadFromEnumerable(Test)).GetColumn<uint>("PredictedLabel").ToList();
        return Test.Zip(predicted).Count(t => t.First.Label == t.Second - 1) / (double)Test.Length;
    }

    private static float[] Axis(int j, double length)
    {
        var v = new float[Dimension];
        v[j] = (float)length;
        return v;
    }

    private static float[] Add(float[] a, float[] b) => a.Zip(b, (x, y) => x + y).ToArray();

    private static float[] Draw(float[] mean, Random random) => mean.Select(m => m + (float)Normal(random)).ToArray();

    private static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
