using Microsoft.ML.PaperExtensions.Text;

namespace Microsoft.ML.PaperExtensions.Quantization;

/// <summary>
/// A text model whose encoder Linears are quantized (see <see cref="WeightQuantizationEstimator"/>): the same columns in and out
/// as the model it replaces; the ONNX graph runs 2, 4 and 8-bit (and 3-bit in a 4-bit container) weights through
/// <c>com.microsoft.MatMulNBits</c>, and saves and loads as the original does.
/// </summary>
public sealed class QuantizedTextTransformer : TextModelTransformer
{
    internal QuantizedTextTransformer(TextScorer scorer, WeightQuantizationReport report) : base(scorer) => Report = report;

    /// <summary>Per layer: method, bits, group size, AWQ's alpha, AdaDim's axis, output error; for the model: bytes before and after.</summary>
    public WeightQuantizationReport Report { get; }

    /// <summary>
    /// Writes the quantized encoder alone as ONNX, shaped as an encoder export: <c>input_ids</c>, <c>attention_mask</c>,
    /// <c>token_type_ids</c> [N, T] int64 in, <c>last_hidden_state</c> [N, T, hidden] out (no pooling, no head).
    /// </summary>
    public void SaveEncoderAsOnnx(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(BertOnnxGraph.Build(Scorer.Checkpoint, pooling: null, normalize: false).ToBytes());
    }
}
