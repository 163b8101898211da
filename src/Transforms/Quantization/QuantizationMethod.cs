namespace Microsoft.ML.PaperExtensions.Quantization;

/// <summary>How <see cref="WeightQuantizationEstimator"/> chooses the integer codes of a weight.</summary>
public enum QuantizationMethod
{
    /// <summary>Round to nearest on the group grid: no calibration data is used for the codes.</summary>
    Rtn,

    /// <summary>Activation-aware (AWQ): per-input-channel scales from the calibration activations, searched over 20 exponents, then a clip search; the inverse scale multiplies the input at run time.</summary>
    Awq,

    /// <summary>Gradient-aware (GWQ): the most salient weights (by squared output gradients on the calibration texts) stay exact in float16, the rest round to nearest.</summary>
    Gwq,

    /// <summary>AdaDim: per Linear, groups along the input or the output channels, whichever moves the calibration output less.</summary>
    AdaDim,

    /// <summary>FlexRound: learned rounding by element-wise division, fitted with Adam to each Linear's calibration output.</summary>
    FlexRound,
}
