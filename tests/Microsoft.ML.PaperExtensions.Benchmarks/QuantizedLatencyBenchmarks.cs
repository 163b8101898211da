using BenchmarkDotNet.Attributes;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.PaperExtensions.Quantization;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.TestSupport;
using Microsoft.ML.PaperExtensions.Text;
using Microsoft.ML.PaperExtensions.TextEmbedding;

namespace Microsoft.ML.PaperExtensions.Benchmarks;

/// <summary>
/// Latency of all-MiniLM-L6-v2 sentence embeddings in ONNX Runtime (CPU, default session options), in one run: the float32
/// graph against the 4-bit AWQ graph (group 128, MatMulNBits, 128 calibration texts; also with int8 compute, and RTN without
/// AWQ's input-scale multiplies, and the same codes expanded to float32 at load), for one review (batch 1) and for 32
/// reviews padded to their longest (at most 128 tokens). Both graphs come from the same builder; only the Linears differ.
/// </summary>
[MemoryDiagnoser]
public class QuantizedLatencyBenchmarks
{
    private InferenceSession _float32 = null!;
    private InferenceSession _int4 = null!;
    private InferenceSession _int4Int8 = null!;
    private InferenceSession _rtn = null!;
    private InferenceSession _atLoad = null!;
    private NamedOnnxValue[] _one = null!;
    private NamedOnnxValue[] _batch = null!;

    [GlobalSetup]
    public void Setup()
    {
        TorchRuntime.EnsureInitialized();
        var ml = new MLContext(seed: 1);
        var texts = ml.Data.CreateTextLoader(new TextLoader.Options
        {
            Separators = [','], HasHeader = true, AllowQuoting = true, Columns = [new TextLoader.Column("Text", DataKind.String, 0)],
        }).Load(Path.Combine(AppContext.BaseDirectory, "data", "fine_foods_test.csv"));
        var folder = Path.Combine(Path.GetTempPath(), "paperextensions-bench");
        Directory.CreateDirectory(folder);
        var variants = new (string File, QuantizationMethod Method, bool Int8, bool AtLoad)[]
        {
            ("minilm-awq4-g128.onnx", QuantizationMethod.Awq, false, false), ("minilm-awq4-g128-int8.onnx", QuantizationMethod.Awq, true, false),
            ("minilm-rtn4-g128.onnx", QuantizationMethod.Rtn, false, false), ("minilm-awq4-g128-atload.onnx", QuantizationMethod.Awq, false, true),
        };
        if (variants.Any(v => !File.Exists(Path.Combine(folder, v.File))))
        {
            using var full = ml.Transforms.Text.TransformerEmbedding(new TextEmbeddingEstimator.Options
            {
                InputColumnName = "Text", ModelPath = PretrainedModels.MiniLmFolder, MaxSequenceLength = 128, Device = ComputeDevice.Cpu,
            }).Fit(texts);
            using (var file = File.Create(Path.Combine(folder, "minilm-float32.onnx"))) full.SaveAsOnnx(file);
            foreach (var (name, method, int8, atLoad) in variants)
            {
                using var quantized = ml.Transforms.QuantizeWeights(full, new WeightQuantizationEstimator.Options { Method = method, Int8Compute = int8, DequantizeAtLoad = atLoad }).Fit(texts);
                using var file = File.Create(Path.Combine(folder, name));
                quantized.SaveAsOnnx(file);
            }
        }
        _float32 = new InferenceSession(Path.Combine(folder, "minilm-float32.onnx"));
        _int4 = new InferenceSession(Path.Combine(folder, variants[0].File));
        _int4Int8 = new InferenceSession(Path.Combine(folder, variants[1].File));
        _rtn = new InferenceSession(Path.Combine(folder, variants[2].File));
        _atLoad = new InferenceSession(Path.Combine(folder, variants[3].File));
        var tokenizer = PretrainedEncoder.Load(PretrainedModels.MiniLmFolder).Tokenizer;
        var all = texts.GetColumn<string>("Text").Skip(200).Take(32).ToList();
        _one = Inputs(tokenizer.EncodeBatch([all[0]], null, 128));
        _batch = Inputs(tokenizer.EncodeBatch(all, null, 128));
    }

    private static NamedOnnxValue[] Inputs(TokenBatch b)
    {
        int[] shape = [b.Rows, b.Length];
        return
        [
            NamedOnnxValue.CreateFromTensor(BertOnnxGraph.InputIds, new DenseTensor<long>(b.InputIds, shape)),
            NamedOnnxValue.CreateFromTensor(BertOnnxGraph.AttentionMask, new DenseTensor<long>(b.AttentionMask, shape)),
            NamedOnnxValue.CreateFromTensor(BertOnnxGraph.TokenTypeIds, new DenseTensor<long>(b.TokenTypeIds, shape)),
        ];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _float32.Dispose();
        _int4.Dispose();
        _int4Int8.Dispose();
        _rtn.Dispose();
        _atLoad.Dispose();
    }

    private static float Run(InferenceSession session, NamedOnnxValue[] inputs)
    {
        using var results = session.Run(inputs);
        return results.First().AsEnumerable<float>().First();
    }

    [Benchmark(Baseline = true, Description = "float32, 1 review")]
    public float Float32One() => Run(_float32, _one);

    [Benchmark(Description = "4-bit AWQ (MatMulNBits), 1 review")]
    public float Int4One() => Run(_int4, _one);

    [Benchmark(Description = "4-bit AWQ, int8 compute (accuracy_level 4), 1 review")]
    public float Int4Int8One() => Run(_int4Int8, _one);

    [Benchmark(Description = "4-bit RTN (no input scales), 1 review")]
    public float RtnOne() => Run(_rtn, _one);

    [Benchmark(Description = "4-bit AWQ, dequantized at load, 1 review")]
    public float AtLoadOne() => Run(_atLoad, _one);

    [Benchmark(Description = "float32, 32 reviews")]
    public float Float32Batch() => Run(_float32, _batch);

    [Benchmark(Description = "4-bit AWQ (MatMulNBits), 32 reviews")]
    public float Int4Batch() => Run(_int4, _batch);

    [Benchmark(Description = "4-bit AWQ, int8 compute (accuracy_level 4), 32 reviews")]
    public float Int4Int8Batch() => Run(_int4Int8, _batch);

    [Benchmark(Description = "4-bit RTN (no input scales), 32 reviews")]
    public float RtnBatch() => Run(_rtn, _batch);

    [Benchmark(Description = "4-bit AWQ, dequantized at load, 32 reviews")]
    public float AtLoadBatch() => Run(_atLoad, _batch);
}
