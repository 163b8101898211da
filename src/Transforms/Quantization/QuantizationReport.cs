namespace Microsoft.ML.PaperExtensions.Quantization;

/// <summary>How one Linear was quantized and how far its output moved.</summary>
/// <param name="Layer">The Linear's path, e.g. <c>encoder.layer.0.attention.self.query</c>.</param>
/// <param name="Method">The method.</param>
/// <param name="Bits">Bits per code.</param>
/// <param name="GroupSize">Values per group (a per-channel group is the row's width rounded up to a power of two).</param>
/// <param name="GroupAxis"><c>input</c> (groups of input channels of one output row) or <c>output</c> (AdaDim's per-input-channel groups).</param>
/// <param name="AwqAlpha">AWQ's chosen exponent of the activation statistic; null for other methods.</param>
/// <param name="Outliers">GWQ's weights kept exact.</param>
/// <param name="RelativeError">||X (W_q - W)^T||_F / ||X W^T||_F on held-out calibration inputs (bias excluded).</param>
/// <param name="RtnRelativeError">The same for plain round-to-nearest at the same bits and group size, for comparison.</param>
/// <param name="BytesBefore">float32 bytes of the weight.</param>
/// <param name="BytesAfter">Bytes stored: codes, scales, zero points, AWQ's input scales, outliers.</param>
/// <param name="HeldOut">Whether the errors were measured on held-out texts (false: on the calibration texts themselves, when no rows were left over).</param>
public sealed record LayerQuantizationReport(string Layer, QuantizationMethod Method, int Bits, int GroupSize, string GroupAxis, double? AwqAlpha, int Outliers,
    double RelativeError, double RtnRelativeError, long BytesBefore, long BytesAfter, bool HeldOut);

/// <summary>What a quantization did to a model.</summary>
/// <param name="Method">The method.</param>
/// <param name="Bits">Bits per code.</param>
/// <param name="GroupSize">Values per group; 0 for one group per row.</param>
/// <param name="Layers">One entry per quantized Linear, in encoder order.</param>
/// <param name="BytesBefore">float32 bytes of the quantized Linears' weights.</param>
/// <param name="BytesAfter">Their stored bytes, scales and zero points included.</param>
/// <param name="ModelBytesBefore">Every weight of the model in float32 (embeddings, norms, biases, head included).</param>
/// <param name="ModelBytesAfter">The same with the quantized Linears at their stored size.</param>
/// <param name="BitsPerWeight">8 x <see cref="BytesAfter"/> / the quantized Linears' weight count.</param>
/// <param name="CalibrationTexts">Texts the quantizers were fitted on.</param>
/// <param name="HeldOutTexts">Texts the errors were measured on.</param>
/// <param name="CalibrationTokens">Tokens of the fitting texts.</param>
/// <param name="Seconds">Time of the whole quantization.</param>
public sealed record WeightQuantizationReport(QuantizationMethod Method, int Bits, int GroupSize, IReadOnlyList<LayerQuantizationReport> Layers, long BytesBefore, long BytesAfter,
    long ModelBytesBefore, long ModelBytesAfter, double BitsPerWeight, int CalibrationTexts, int HeldOutTexts, long CalibrationTokens, double Seconds);
