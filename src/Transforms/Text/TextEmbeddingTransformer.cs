using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Text;

namespace Microsoft.ML.PaperExtensions.TextEmbedding;

/// <summary>
/// A fitted <see cref="TextEmbeddingEstimator"/>: the encoder as ONNX graphs. <see cref="Transform"/> tokenizes blocks of
/// texts (padded to the block's longest) and runs the batched graph in one ONNX Runtime session (or the TorchSharp encoder
/// on a GPU); the saved model runs the same encoder through ML.NET's <c>OnnxTransformer</c> one row at a time, behind the
/// tokenizer's custom mapping.
/// </summary>
/// <remarks>Input column: the text column. Output column: <c>Vector&lt;Single, hidden&gt;</c>.</remarks>
public sealed class TextEmbeddingTransformer : ITransformer, IDisposable
{
    private readonly TextScorer _scorer;

    internal TextEmbeddingTransformer(MLContext mlContext, PretrainedEncoder encoder, TextScorerSettings settings, DataViewSchema inputSchema)
    {
        Encoder = encoder;
        _scorer = new TextScorer(mlContext, encoder.Checkpoint, encoder.Tokenizer, settings, inputSchema);
    }

    /// <summary>The encoder and its vocabulary.</summary>
    public PretrainedEncoder Encoder { get; }

    /// <summary>Length of the output vectors (the encoder's hidden size).</summary>
    public int Dimension => Encoder.Config.HiddenSize;

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <summary>
    /// Writes the batched encoder graph (inputs <c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c> [N, T] int64;
    /// output <c>Embedding</c> [N, hidden]) for ONNX Runtime without ML.NET; tokenization is not part of it.
    /// </summary>
    public void SaveAsOnnx(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _scorer.SaveAsOnnx(stream);
    }

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _scorer.GetOutputSchema(inputSchema);

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => _scorer.GetRowToRowMapper(inputSchema);

    /// <summary>Embeds lazily, <see cref="TextEmbeddingEstimator.Options.BatchSize"/> texts per run of the encoder.</summary>
    public IDataView Transform(IDataView input) => _scorer.Transform(input);

    /// <summary>The same transformer running the TorchSharp encoder on <paramref name="device"/> in process (tests compare the two paths on the CPU).</summary>
    internal TextEmbeddingTransformer OnDevice(MLContext mlContext, TorchSharp.torch.Device device, DataViewSchema inputSchema) =>
        new(mlContext, Encoder, _scorer.Settings with { TorchDevice = device }, inputSchema);

    /// <summary>Embeds through the saved chain, row by row (what a loaded model does).</summary>
    internal IDataView TransformRowByRow(IDataView input) => _scorer.TransformRowByRow(input);

    void ICanSaveModel.Save(ModelSaveContext ctx) => _scorer.Save(ctx);

    /// <inheritdoc />
    public void Dispose() => _scorer.Dispose();
}
