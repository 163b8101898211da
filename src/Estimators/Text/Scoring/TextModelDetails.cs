using Microsoft.ML.PaperExtensions.Onnx;

namespace Microsoft.ML.PaperExtensions.Text;

/// <summary>
/// What a saved text model needs besides its weights to be rebuilt after <c>mlContext.Model.Load</c>: the config, the vocabulary
/// and the scorer's settings, stored as JSON in the per-row graph's <c>metadata_props</c> (see <see cref="ModelDetails"/>); the
/// weights are the graph's own initializers, under their Hugging Face names.
/// </summary>
internal sealed record TextModelDetails(BertConfig Config, IReadOnlyList<string> Vocabulary, bool LowerCase, string InputColumnName, string? PairColumnName,
    int MaxSequenceLength, int BatchSize, EmbeddingPooling Pooling, bool Normalize, string OutputColumnName, IReadOnlyList<string>? ClassNames, string Source)
{
    public const string Component = "TextModel";

    public static TextModelDetails From(EncoderCheckpoint checkpoint, BertWordPieceTokenizer tokenizer, TextScorerSettings s) =>
        new(checkpoint.Config, tokenizer.Vocabulary, tokenizer.LowerCase, s.InputColumnName, s.PairColumnName, s.MaxSequenceLength, s.BatchSize, s.Pooling, s.Normalize,
            s.OutputColumnName, s.ClassNames, checkpoint.Source);

    /// <summary>The checkpoint, tokenizer and settings of the model whose per-row graph is <paramref name="graph"/>.</summary>
    /// <exception cref="InvalidOperationException">The graph holds quantized Linears: their float weights are gone.</exception>
    public (EncoderCheckpoint Checkpoint, BertWordPieceTokenizer Tokenizer, TextScorerSettings Settings) Restore(global::Onnx.ModelProto graph)
    {
        var initializers = graph.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        float[] Values(string name) => initializers.TryGetValue(name, out var t)
            ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray()
            : throw new InvalidDataException($"The saved text model has no tensor '{name}'.");
        var tensors = new Dictionary<string, EncoderTensor>(StringComparer.Ordinal);
        foreach (var (name, shape) in EncoderCheckpoint.ExpectedShapes(Config))
        {
            if (!initializers.ContainsKey(name) && initializers.ContainsKey(name[..^".weight".Length] + ".qweight"))
                throw new InvalidOperationException($"This model's Linear '{name[..^".weight".Length]}' is already quantized; quantize the full-precision model instead.");
            var values = Values(name);
            // The graph keeps a Linear's W^T [in, out] for MatMul.
            if (shape.Length == 2 && name.StartsWith("encoder.", StringComparison.Ordinal)) values = Transpose(values, (int)shape[1], (int)shape[0]);
            tensors[name] = new EncoderTensor(shape, values);
        }
        var head = initializers.ContainsKey("classifier.bias") ? new TextHeadWeights(Values("classifier.weight"), Values("classifier.bias")) : null;
        var checkpoint = new EncoderCheckpoint(Config, tensors, Source);
        var settings = new TextScorerSettings(InputColumnName, PairColumnName, MaxSequenceLength, BatchSize, Pooling, Normalize, OutputColumnName, head, ClassNames);
        return (checkpoint, BertWordPieceTokenizer.FromVocabulary(Vocabulary, LowerCase), settings);
    }

    private static float[] Transpose(float[] values, int rows, int columns)
    {
        var result = new float[values.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++) result[c * rows + r] = values[r * columns + c];
        return result;
    }
}
