using System.Text.Json;

namespace Microsoft.ML.PaperExtensions.Text;

/// <summary>
/// Sizes of a BERT-family encoder, named as in a Hugging Face <c>config.json</c>.
/// Read from the folder's <c>config.json</c>, or inferred from the tensors of an ONNX export.
/// </summary>
public sealed record BertConfig
{
    /// <summary>Rows of the word-embedding table.</summary>
    public required int VocabSize { get; init; }
    /// <summary>Width of every hidden state.</summary>
    public required int HiddenSize { get; init; }
    /// <summary>Number of transformer layers.</summary>
    public required int NumHiddenLayers { get; init; }
    /// <summary>Attention heads per layer; divides <see cref="HiddenSize"/>.</summary>
    public required int NumAttentionHeads { get; init; }
    /// <summary>Width of the feed-forward block.</summary>
    public required int IntermediateSize { get; init; }
    /// <summary>Rows of the position-embedding table: the longest sequence the model takes.</summary>
    public required int MaxPositionEmbeddings { get; init; }
    /// <summary>Rows of the token-type (segment) table.</summary>
    public int TypeVocabSize { get; init; } = 2;
    /// <summary>LayerNorm epsilon.</summary>
    public double LayerNormEps { get; init; } = 1e-12;
    /// <summary>
    /// Dropout probability of the hidden states during fine-tuning (<c>hidden_dropout_prob</c>): after the embeddings' LayerNorm and
    /// after each <c>attention.output.dense</c> and <c>output.dense</c>, before the residual sum. Hugging Face's default 0.1; no effect at inference.
    /// </summary>
    public double HiddenDropoutProb { get; init; } = 0.1;
    /// <summary>Dropout probability of the attention weights during fine-tuning (<c>attention_probs_dropout_prob</c>); Hugging Face's default 0.1; no effect at inference.</summary>
    public double AttentionProbsDropoutProb { get; init; } = 0.1;
    /// <summary>Whether the vocabulary is lower-cased (uncased model); null when the config does not say.</summary>
    public bool? DoLowerCase { get; init; }

    /// <summary>Width of one attention head.</summary>
    public int HeadSize => HiddenSize / NumAttentionHeads;

    /// <summary>Reads a Hugging Face <c>config.json</c> of a BERT-family model.</summary>
    /// <exception cref="InvalidDataException">The file is not a BERT-family config or a size is missing.</exception>
    public static BertConfig Read(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var root = document.RootElement;
        string modelType = root.TryGetProperty("model_type", out var type) ? type.GetString() ?? "" : "";
        if (modelType.Length > 0 && !SupportedModelTypes.Contains(modelType))
            throw new InvalidDataException($"{path}: model_type '{modelType}' is not a BERT-family encoder (supported: {string.Join(", ", SupportedModelTypes)}).");
        string activation = root.TryGetProperty("hidden_act", out var act) ? act.GetString() ?? "gelu" : "gelu";
        if (activation != "gelu")
            throw new InvalidDataException($"{path}: hidden_act '{activation}' is not supported (only the exact erf GELU, 'gelu').");
        if (root.TryGetProperty("position_embedding_type", out var position) && position.GetString() != "absolute")
            throw new InvalidDataException($"{path}: position_embedding_type '{position.GetString()}' is not supported (only 'absolute').");

        int Required(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
            ? value.GetInt32()
            : throw new InvalidDataException($"{path}: '{name}' is missing or not a number.");

        double Probability(string name) => !root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? 0.1
            : value.ValueKind == JsonValueKind.Number ? value.GetDouble()
            : throw new InvalidDataException($"{path}: '{name}' is not a number.");

        var config = new BertConfig
        {
            VocabSize = Required("vocab_size"),
            HiddenSize = Required("hidden_size"),
            NumHiddenLayers = Required("num_hidden_layers"),
            NumAttentionHeads = Required("num_attention_heads"),
            IntermediateSize = Required("intermediate_size"),
            MaxPositionEmbeddings = Required("max_position_embeddings"),
            TypeVocabSize = root.TryGetProperty("type_vocab_size", out var types) ? types.GetInt32() : 2,
            LayerNormEps = root.TryGetProperty("layer_norm_eps", out var eps) ? eps.GetDouble() : 1e-12,
            HiddenDropoutProb = Probability("hidden_dropout_prob"),
            AttentionProbsDropoutProb = Probability("attention_probs_dropout_prob"),
            DoLowerCase = root.TryGetProperty("do_lower_case", out var lower) && lower.ValueKind is JsonValueKind.True or JsonValueKind.False
                ? lower.GetBoolean() : null,
        };
        config.Validate(path);
        return config;
    }

    internal void Validate(string source)
    {
        if (VocabSize < 1 || HiddenSize < 1 || NumHiddenLayers < 1 || NumAttentionHeads < 1 || IntermediateSize < 1 || MaxPositionEmbeddings < 1 || TypeVocabSize < 1)
            throw new InvalidDataException($"{source}: every size must be positive ({this}).");
        if (HiddenSize % NumAttentionHeads != 0)
            throw new InvalidDataException($"{source}: hidden_size {HiddenSize} is not a multiple of num_attention_heads {NumAttentionHeads}.");
        if (!(HiddenDropoutProb >= 0 && HiddenDropoutProb < 1))
            throw new InvalidDataException($"{source}: hidden_dropout_prob {HiddenDropoutProb} is not in [0, 1).");
        if (!(AttentionProbsDropoutProb >= 0 && AttentionProbsDropoutProb < 1))
            throw new InvalidDataException($"{source}: attention_probs_dropout_prob {AttentionProbsDropoutProb} is not in [0, 1).");
    }

    internal static readonly string[] SupportedModelTypes = ["bert"];
}
