using Microsoft.ML.PaperExtensions.Text;

namespace Microsoft.ML.PaperExtensions.TextEmbedding;

/// <summary>
/// A fitted <see cref="TextEmbeddingEstimator"/>: the encoder with its pooling as an ONNX graph (or, in process on a GPU, the
/// TorchSharp encoder).
/// </summary>
/// <remarks>Input column: the text column. Output column: <c>Vector&lt;Single, hidden&gt;</c>.</remarks>
public sealed class TextEmbeddingTransformer : TextModelTransformer
{
    internal TextEmbeddingTransformer(MLContext mlContext, PretrainedEncoder encoder, TextScorerSettings settings, DataViewSchema inputSchema)
        : base(new TextScorer(mlContext, encoder.Checkpoint, encoder.Tokenizer, settings, inputSchema)) => Encoder = encoder;

    /// <summary>The encoder and its vocabulary.</summary>
    public PretrainedEncoder Encoder { get; }

    /// <summary>Length of the output vectors (the encoder's hidden size).</summary>
    public int Dimension => Encoder.Config.HiddenSize;

    /// <summary>The same transformer running the TorchSharp encoder on <paramref name="device"/> in process (tests compare the two paths on the CPU).</summary>
    internal TextEmbeddingTransformer OnDevice(MLContext mlContext, TorchSharp.torch.Device device, DataViewSchema inputSchema) =>
        new(mlContext, Encoder, Scorer.Settings with { TorchDevice = device }, inputSchema);
}
