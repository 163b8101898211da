namespace Microsoft.ML.PaperExtensions.Text;

/// <summary>One tensor of a checkpoint: row-major float32 values and their shape.</summary>
internal sealed record EncoderTensor(long[] Shape, float[] Values)
{
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// The weights of a BERT-family encoder under Hugging Face <c>BertModel</c> state-dict names
/// (no <c>bert.</c> prefix, <c>weight</c>/<c>bias</c> rather than <c>gamma</c>/<c>beta</c>, Linear weights [out, in]),
/// with the config that sizes them. Every loader (Hugging Face folder, ONNX export) produces one. A quantized checkpoint also
/// holds packed weights by Linear path (<c>encoder.layer.0.attention.self.query</c>): the graph writes those instead of the
/// float weights, and TorchSharp modules load their dequantized values.
/// </summary>
internal sealed record EncoderCheckpoint(BertConfig Config, IReadOnlyDictionary<string, EncoderTensor> Tensors, string Source,
    IReadOnlyDictionary<string, Onnx.PackedLinear>? Quantized = null)
{
    /// <summary>Whether the checkpoint has the optional pooler (dense + tanh on the first token).</summary>
    public bool HasPooler => Tensors.ContainsKey("pooler.dense.weight");

    /// <summary>The names and shapes a <see cref="BertConfig"/> requires, pooler excluded.</summary>
    public static IEnumerable<(string Name, long[] Shape)> ExpectedShapes(BertConfig c)
    {
        long h = c.HiddenSize, f = c.IntermediateSize;
        yield return ("embeddings.word_embeddings.weight", [c.VocabSize, h]);
        yield return ("embeddings.position_embeddings.weight", [c.MaxPositionEmbeddings, h]);
        yield return ("embeddings.token_type_embeddings.weight", [c.TypeVocabSize, h]);
        yield return ("embeddings.LayerNorm.weight", [h]);
        yield return ("embeddings.LayerNorm.bias", [h]);
        for (int i = 0; i < c.NumHiddenLayers; i++)
        {
            string p = $"encoder.layer.{i}.";
            foreach (var name in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" })
            {
                yield return (p + name + ".weight", [h, h]);
                yield return (p + name + ".bias", [h]);
            }
            yield return (p + "attention.output.LayerNorm.weight", [h]);
            yield return (p + "attention.output.LayerNorm.bias", [h]);
            yield return (p + "intermediate.dense.weight", [f, h]);
            yield return (p + "intermediate.dense.bias", [f]);
            yield return (p + "output.dense.weight", [h, f]);
            yield return (p + "output.dense.bias", [h]);
            yield return (p + "output.LayerNorm.weight", [h]);
            yield return (p + "output.LayerNorm.bias", [h]);
        }
    }

    /// <summary>Checks that every tensor the config requires is present with its shape (pooler optional).</summary>
    /// <exception cref="InvalidDataException">Names the missing tensor, or the tensor with the expected and the found shape.</exception>
    public void Validate()
    {
        foreach (var (name, shape) in ExpectedShapes(Config))
        {
            if (!Tensors.TryGetValue(name, out var tensor))
                throw new InvalidDataException($"{Source}: tensor '{name}' is missing (expected shape [{string.Join(", ", shape)}]).");
            if (!tensor.Shape.SequenceEqual(shape))
                throw new InvalidDataException($"{Source}: tensor '{name}' has shape {tensor.ShapeText}, but the config needs [{string.Join(", ", shape)}].");
        }
        if (HasPooler)
        {
            long h = Config.HiddenSize;
            Check("pooler.dense.weight", [h, h]);
            Check("pooler.dense.bias", [h]);
        }

        void Check(string name, long[] shape)
        {
            if (!Tensors.TryGetValue(name, out var t) || !t.Shape.SequenceEqual(shape))
                throw new InvalidDataException($"{Source}: tensor '{name}' has shape {(t is null ? "(missing)" : t.ShapeText)}, but the config needs [{string.Join(", ", shape)}].");
        }
    }
}
