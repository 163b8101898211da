using Microsoft.ML.PaperExtensions.Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Quantization;

/// <summary>The method-specific settings of one quantization run.</summary>
internal sealed record LayerQuantizerSettings(QuantizationMethod Method, QuantizerSettings Quantizer, double OutlierFraction, int FlexRoundIterations, double FlexRoundLearningRate);

/// <summary>Quantizes one Linear by the chosen method and measures its output error against full precision.</summary>
internal static class LayerQuantizer
{
    /// <param name="name">The Linear's path (<c>encoder.layer.0.attention.self.query</c>); AWQ skips the clip search on query and key.</param>
    /// <param name="w">W [out, in] float32.</param>
    /// <param name="inputs">The Linear's calibration inputs.</param>
    /// <param name="settings">Method, quantizer and method options.</param>
    /// <param name="saliency">GWQ's per-weight scores [out, in]; null for the other methods.</param>
    /// <param name="cancellationToken">Checked between search steps.</param>
    public static (PackedLinear Packed, LayerQuantizationReport Report) Quantize(string name, Tensor w, LinearInputs inputs, LayerQuantizerSettings settings,
        Tensor? saliency, CancellationToken cancellationToken)
    {
        using var scope = NewDisposeScope();
        var q = settings.Quantizer;
        int outputs = (int)w.shape[0], inputsCount = (int)w.shape[1];
        var axis = GroupAxis.Input;
        double? alpha = null;
        float[]? inputScale = null;
        SparseOutliers? outliers = null;
        Tensor effective;          // W_eff [out, in] float32, for the error
        GroupCodes codes;
        switch (settings.Method)
        {
            case QuantizationMethod.Rtn:
                codes = q.Quantize(w);
                effective = codes.Dequantize();
                break;
            case QuantizationMethod.Awq:
            {
                var (index, s, _) = AwqSearch.SearchScale(w, inputs, q, cancellationToken);
                alpha = (double)index / AwqSearch.AlphaSteps;
                var ws = w * s;
                if (!IsQueryOrKey(name))
                    (ws, _) = AwqSearch.SearchClip(ws, inputs.ClipRows() / s.to_type(ScalarType.Float64), q, cancellationToken);
                codes = q.Quantize(ws);
                var inverse = 1 / s;
                inputScale = inverse.data<float>().ToArray();
                effective = codes.Dequantize() * inverse;
                break;
            }
            case QuantizationMethod.Gwq:
            {
                int count = (int)Math.Round(settings.OutlierFraction * outputs * inputsCount);
                var mask = zeros(outputs * inputsCount, dtype: ScalarType.Bool);
                var (_, top) = saliency!.reshape(-1).topk(count);
                mask.index_fill_(0, top, true);
                mask = mask.view(outputs, inputsCount);
                codes = q.Quantize(w, mask);
                var exact = w.to_type(ScalarType.Float16).to_type(ScalarType.Float32);
                effective = where(mask, exact, codes.Dequantize());
                var positions = mask.nonzero();
                outliers = new SparseOutliers(positions[.., 0].to_type(ScalarType.Int32).data<int>().ToArray(), positions[.., 1].to_type(ScalarType.Int32).data<int>().ToArray(),
                    exact.masked_select(mask).data<float>().ToArray());
                break;
            }
            case QuantizationMethod.AdaDim:
            {
                var byInput = q.Quantize(w);
                var byOutput = q.Quantize(w.t().contiguous());
                var inputHat = byInput.Dequantize();
                var outputHat = byOutput.Dequantize().t();
                double inputError = LinearInputs.SquaredOutputError(inputHat - w, inputs.Gram), outputError = LinearInputs.SquaredOutputError(outputHat - w, inputs.Gram);
                (codes, effective, axis) = outputError < inputError ? (byOutput, outputHat, GroupAxis.Output) : (byInput, inputHat, GroupAxis.Input);
                break;
            }
            case QuantizationMethod.FlexRound:
                codes = FlexRound.Fit(w, inputs, q, settings.FlexRoundIterations, settings.FlexRoundLearningRate, cancellationToken);
                effective = codes.Dequantize();
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(settings), settings.Method, "Unknown quantization method.");
        }

        var packed = Pack(codes, outputs, inputsCount, q.Bits, axis, inputScale, outliers);
        using var rtn = q.FakeQuantize(w);
        var report = new LayerQuantizationReport(name, settings.Method, q.Bits, packed.GroupSize, axis == GroupAxis.Output ? "output" : "input", alpha, outliers?.Count ?? 0,
            RelativeError(effective, w, inputs), RelativeError(rtn, w, inputs), 4L * outputs * inputsCount, packed.StorageBytes, inputs.HeldOutCount > 0);
        return (packed, report);
    }

    private static bool IsQueryOrKey(string name) => name.EndsWith(".query", StringComparison.Ordinal) || name.EndsWith(".key", StringComparison.Ordinal);

    /// <summary>||X (W_eff - W)^T|| / ||X W^T|| on the held-out inputs (the fitting ones when none were held out).</summary>
    public static double RelativeError(Tensor effective, Tensor w, LinearInputs inputs)
    {
        var gram = inputs.HeldOutCount > 0 ? inputs.HeldOutGram : inputs.Gram;
        return Math.Sqrt(LinearInputs.SquaredOutputError(effective - w, gram) / LinearInputs.SquaredOutputError(w, gram));
    }

    internal static PackedLinear Pack(GroupCodes codes, int outputs, int inputs, int bits, GroupAxis axis, float[]? inputScale, SparseOutliers? outliers)
    {
        int rows = (int)codes.Codes.shape[0], padded = (int)(codes.Codes.shape[1] * codes.Codes.shape[2]);
        var values = codes.Codes.to_type(ScalarType.Byte).contiguous().data<byte>().ToArray();
        int container = bits == 3 ? 4 : bits;
        return new PackedLinear(outputs, inputs, bits, codes.GroupSize, axis, PackedLinear.Pack(values, rows, padded, container),
            codes.Scales.contiguous().data<float>().ToArray(), codes.Zeros.to_type(ScalarType.Byte).contiguous().data<byte>().ToArray(), inputScale, outliers);
    }
}
