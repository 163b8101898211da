using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Onnx;

namespace Microsoft.ML.PaperExtensions.Text;

/// <summary>
/// The shared behaviour of fitted text models (embeddings, fine-tuned classifiers and regressors): <see cref="Transform"/>
/// tokenizes blocks of texts padded to the block's longest and runs the batched ONNX graph in one ONNX Runtime session; the
/// saved model runs the same graph through ML.NET's <c>OnnxTransformer</c> one row at a time, behind the tokenizer's custom
/// mapping (load it after <c>mlContext.ComponentCatalog.RegisterAssembly(typeof(PretrainedEncoder).Assembly)</c>).
/// </summary>
public abstract class TextModelTransformer : ITransformer, IDisposable
{
    private protected TextModelTransformer(TextScorer scorer) => Scorer = scorer;

    internal TextScorer Scorer { get; }

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <summary>
    /// Rebuilds a text model of this package (an embedding transform or a fine-tuned text model) from a chain loaded with
    /// <c>mlContext.Model.Load</c>, for example to quantize it (<c>mlContext.Transforms.QuantizeWeights</c>); it scores as the
    /// loaded chain does. The text columns must be in <paramref name="inputSchema"/> (the schema <c>Load</c> returns).
    /// </summary>
    /// <exception cref="ArgumentException">No text model of this package is in <paramref name="loaded"/>.</exception>
    /// <exception cref="InvalidOperationException">The model's encoder is quantized.</exception>
    public static TextModelTransformer FromLoaded(MLContext mlContext, ITransformer loaded, DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(inputSchema);
        var details = ModelDetails.Read<TextModelDetails>(loaded, TextModelDetails.Component);
        var (checkpoint, tokenizer, settings) = details.Restore(ModelDetails.Graph(loaded, TextModelDetails.Component));
        return new LoadedTextModel(new TextScorer(mlContext, checkpoint, tokenizer, settings, inputSchema));
    }

    /// <summary>Writes the batched graph (token ids <c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c> [N, T] int64 in) for ONNX Runtime without ML.NET; tokenization is not part of it.</summary>
    public void SaveAsOnnx(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Scorer.SaveAsOnnx(stream);
    }

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => Scorer.GetOutputSchema(inputSchema);

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => Scorer.GetRowToRowMapper(inputSchema);

    /// <summary>Scores lazily, a block of texts per run of the encoder.</summary>
    public IDataView Transform(IDataView input) => Scorer.Transform(input);

    /// <summary>Scores through the saved chain, row by row (what a loaded model does).</summary>
    internal IDataView TransformRowByRow(IDataView input) => Scorer.TransformRowByRow(input);

    void ICanSaveModel.Save(ModelSaveContext ctx) => Scorer.Save(ctx);

    /// <inheritdoc />
    public void Dispose()
    {
        Scorer.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A text model rebuilt from a loaded chain by <see cref="TextModelTransformer.FromLoaded"/>.</summary>
internal sealed class LoadedTextModel(TextScorer scorer) : TextModelTransformer(scorer);
