using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Text;

namespace Microsoft.ML.PaperExtensions.FineTuning;

/// <summary>
/// A fine-tuned text model: the merged encoder and head as one ONNX graph behind the tokenizer (see <see cref="TextFineTuningTrainer"/>).
/// Saves with the model zip (load it after <c>mlContext.ComponentCatalog.RegisterAssembly(typeof(PretrainedEncoder).Assembly)</c>);
/// <see cref="SaveAdapter"/> writes the adapter alone in Hugging Face PEFT's format.
/// </summary>
public sealed class TextFineTuningTransformer : ITransformer, IDisposable
{
    private readonly TextScorer _scorer;
    private readonly AdapterSnapshot? _adapters;
    private readonly TextHeadWeights _head;
    private readonly string _baseModel;

    internal TextFineTuningTransformer(TextScorer scorer, FineTuningReport report, AdapterSnapshot? adapters, TextHeadWeights head, string baseModel)
    {
        _scorer = scorer;
        Report = report;
        _adapters = adapters;
        _head = head;
        _baseModel = baseModel;
    }

    /// <summary>What the fine-tune did: losses, steps, time, parameter counts, classes.</summary>
    public FineTuningReport Report { get; }

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <summary>
    /// Writes the adapter and the head (<c>classifier</c>, saved whole) as a Hugging Face PEFT folder: <c>adapter_model.safetensors</c>
    /// and <c>adapter_config.json</c>, keys <c>base_model.model.bert.encoder...lora_A.weight</c> as for BertForSequenceClassification.
    /// ALLoRA is written as plain LoRA with lora_alpha = r, which computes the same function.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model was fully fine-tuned: it has no adapter.</exception>
    public void SaveAdapter(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var adapters = _adapters ?? throw new InvalidOperationException("This model was fully fine-tuned (Method = Full): it has no adapter to save; save the model zip instead.");
        int outputs = _head.Bias.Length;
        var classifier = new Dictionary<string, EncoderTensor>
        {
            ["classifier.weight"] = new([outputs, _head.Weight.Length / outputs], _head.Weight),
            ["classifier.bias"] = new([outputs], _head.Bias),
        };
        PeftAdapterFile.Save(folder, adapters, classifier, "bert.", _baseModel);
    }

    /// <summary>Writes the batched graph (token ids in; <c>Score</c> and <c>PredictedLabel</c> out) for ONNX Runtime without ML.NET.</summary>
    public void SaveAsOnnx(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _scorer.SaveAsOnnx(stream);
    }

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _scorer.GetOutputSchema(inputSchema);

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => _scorer.GetRowToRowMapper(inputSchema);

    /// <summary>Scores lazily, a block of texts per ONNX Runtime run.</summary>
    public IDataView Transform(IDataView input) => _scorer.Transform(input);

    /// <summary>Scores through the saved chain, row by row (what a loaded model does).</summary>
    internal IDataView TransformRowByRow(IDataView input) => _scorer.TransformRowByRow(input);

    void ICanSaveModel.Save(ModelSaveContext ctx) => _scorer.Save(ctx);

    /// <inheritdoc />
    public void Dispose() => _scorer.Dispose();
}
