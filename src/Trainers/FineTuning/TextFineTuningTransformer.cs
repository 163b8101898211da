using Microsoft.ML.PaperExtensions.Text;

namespace Microsoft.ML.PaperExtensions.FineTuning;

/// <summary>
/// A fine-tuned text model: the merged encoder and head as one ONNX graph behind the tokenizer (see <see cref="TextFineTuningTrainer"/>).
/// <see cref="SaveAdapter"/> writes the adapter alone in Hugging Face PEFT's format.
/// </summary>
public sealed class TextFineTuningTransformer : TextModelTransformer
{
    private readonly AdapterSnapshot? _adapters;
    private readonly TextHeadWeights _head;
    private readonly string _baseModel;

    internal TextFineTuningTransformer(TextScorer scorer, FineTuningReport report, AdapterSnapshot? adapters, TextHeadWeights head, string baseModel) : base(scorer)
    {
        Report = report;
        _adapters = adapters;
        _head = head;
        _baseModel = baseModel;
    }

    /// <summary>What the fine-tune did: losses, steps, time, parameter counts, classes.</summary>
    public FineTuningReport Report { get; }

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
}
