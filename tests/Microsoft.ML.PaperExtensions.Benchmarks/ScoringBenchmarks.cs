using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.PaperExtensions.Onnx;
using Microsoft.ML.PaperExtensions.Ordinal;
using Microsoft.ML.PaperExtensions.Survival;
using Microsoft.ML.PaperExtensions.TestSupport;

namespace Microsoft.ML.PaperExtensions.Benchmarks;

/// <summary>
/// Scoring speed of fitted models against ML.NET's own linear trainers on the same pipeline, in one run: batch
/// <c>Transform</c> of 50,000 rows (soup's 22 dummies repeated; every row's Score read), and single-row
/// <c>PredictionEngine.Predict</c>. PRESTO against L-BFGS maximum entropy; the APGW survival model against SDCA regression.
/// Our batch path runs the graph in blocks of rows; <c>RowByRow</c> is the saved chain (ML.NET's OnnxTransformer);
/// <c>SinglePrestoRawOnnxRuntimeRun</c> is one bare ONNX Runtime <c>Run</c> of the graph on one row, the floor of any path
/// that scores a saved ONNX graph row by row.
/// </summary>
[MemoryDiagnoser]
public class ScoringBenchmarks
{
    private const int Rows = 50_000;
    private IDataView _data = null!;
    private OrdinalTransformer _presto = null!;
    private ITransformer _maxEnt = null!;
    private FlexibleSurvivalTransformer _survival = null!;
    private ITransformer _sdca = null!;
    private PredictionEngine<SoupRow, OrdinalScore> _prestoEngine = null!;
    private PredictionEngine<SoupRow, OrdinalScore> _maxEntEngine = null!;
    private PredictionEngine<SoupRow, SurvivalScore> _survivalEngine = null!;
    private PredictionEngine<SoupRow, SurvivalScore> _sdcaEngine = null!;
    private SoupRow _row = null!;
    private InferenceSession _rawSession = null!;
    private OrtValue _rawInput = null!;
    private RunOptions _runOptions = null!;

    public sealed class SoupRow
    {
        public uint Label { get; set; }

        [VectorType(22)]
        public float[] Features { get; set; } = [];

        public float Time { get; set; }

        public float Event { get; set; }
    }

    public sealed class OrdinalScore
    {
        public float[] Score { get; set; } = [];
    }

    public sealed class SurvivalScore
    {
        public float Score { get; set; }
    }

    [GlobalSetup]
    public void Setup()
    {
        var ml = new MLContext(seed: 1);
        var soup = SoupFeatures.Load(Path.Combine(AppContext.BaseDirectory, "data", "soup.csv"));
        var random = new Random(1);
        var rows = Enumerable.Range(0, Rows).Select(i =>
        {
            var s = soup[i % soup.Length];
            var risk = 0.2 * s.Features.Sum();
            return new SoupRow { Label = (uint)s.Label, Features = s.Features, Time = (float)(-Math.Log(1 - random.NextDouble()) * 100 / Math.Exp(risk)) + 0.01f, Event = random.NextDouble() < 0.8 ? 1 : 0 };
        }).ToArray();
        var schema = SchemaDefinition.Create(typeof(SoupRow));
        schema[nameof(SoupRow.Label)].ColumnType = new KeyDataViewType(typeof(uint), 6);
        _data = ml.Data.Cache(ml.Data.LoadFromEnumerable(rows.Select(r => new SoupRow { Label = r.Label - 1, Features = r.Features, Time = r.Time, Event = r.Event }), schema));
        var train = ml.Data.TakeRows(_data, 2000);
        _presto = ml.Ordinal().Trainers.Presto(new PrestoTrainer.Options { Lambda = 0.01 }).Fit(train);
        _maxEnt = ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy().Fit(train);
        _survival = ml.Survival().Trainers.FlexibleParametric(new FlexibleSurvivalTrainer.Options { TimeColumnName = "Time", EventColumnName = "Event", PhFeatureColumnNames = ["Features"], Kappa = 1 }).Fit(train);
        _sdca = ml.Regression.Trainers.Sdca(labelColumnName: "Time", maximumNumberOfIterations: 5).Fit(train);
        _prestoEngine = ml.Model.CreatePredictionEngine<SoupRow, OrdinalScore>(_presto);
        _maxEntEngine = ml.Model.CreatePredictionEngine<SoupRow, OrdinalScore>(_maxEnt);
        _survivalEngine = ml.Model.CreatePredictionEngine<SoupRow, SurvivalScore>(_survival);
        _sdcaEngine = ml.Model.CreatePredictionEngine<SoupRow, SurvivalScore>(_sdca);
        _row = rows[7];
        // The floor of any ONNX-based single-row path: one ONNX Runtime session, its input tensor made once, one Run per row.
        using var sessionOptions = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        _rawSession = new InferenceSession(_presto.OnnxModel.ToByteArray(), sessionOptions);
        _rawInput = OrtValue.CreateTensorValueFromMemory(_row.Features.ToArray(), [1, _row.Features.Length]);
        _runOptions = new RunOptions();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _rawInput.Dispose();
        _runOptions.Dispose();
        _rawSession.Dispose();
    }

    private static double ReadScores(IDataView scored, bool vector)
    {
        var column = scored.Schema["Score"];
        using var cursor = scored.GetRowCursor([column]);
        var sum = 0.0;
        if (vector)
        {
            var getter = cursor.GetGetter<VBuffer<float>>(column);
            var value = default(VBuffer<float>);
            while (cursor.MoveNext()) { getter(ref value); sum += value.GetValues()[0]; }
        }
        else
        {
            var getter = cursor.GetGetter<float>(column);
            var value = 0f;
            while (cursor.MoveNext()) { getter(ref value); sum += value; }
        }
        return sum;
    }

    [Benchmark(Baseline = true)]
    public double BatchMlNetMaximumEntropy() => ReadScores(_maxEnt.Transform(_data), vector: true);

    [Benchmark]
    public double BatchPresto() => ReadScores(_presto.Transform(_data), vector: true);

    [Benchmark]
    public double BatchPrestoRowByRow() => ReadScores(_presto.TransformRowByRow(_data), vector: true);

    [Benchmark]
    public double BatchMlNetSdcaRegression() => ReadScores(_sdca.Transform(_data), vector: false);

    [Benchmark]
    public double BatchSurvival() => ReadScores(_survival.Transform(_data), vector: false);

    [Benchmark]
    public float SingleMlNetMaximumEntropy() => _maxEntEngine.Predict(_row).Score[0];

    [Benchmark]
    public float SinglePresto() => _prestoEngine.Predict(_row).Score[0];

    [Benchmark]
    public float SinglePrestoRawOnnxRuntimeRun()
    {
        using var results = _rawSession.Run(_runOptions, ["Features"], [_rawInput], [ColumnNames.Score]);
        return results[0].GetTensorDataAsSpan<float>()[0];
    }

    [Benchmark]
    public float SingleMlNetSdcaRegression() => _sdcaEngine.Predict(_row).Score;

    [Benchmark]
    public float SingleSurvival() => _survivalEngine.Predict(_row).Score;
}
