using Microsoft.ML.PaperExtensions.Quantization;
using Microsoft.ML.PaperExtensions.Text;

namespace Microsoft.ML.PaperExtensions;

/// <summary>Weight quantization on ML.NET's transforms catalog: <c>mlContext.Transforms.QuantizeWeights(model, ...)</c>.</summary>
public static class QuantizationCatalog
{
    /// <summary>Quantizes the encoder weights of a fitted text model; fit the estimator on calibration texts (the model's text column).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="model">A fitted <c>TransformerEmbedding</c> transform or fine-tuned text model.</param>
    /// <param name="method">RTN, AWQ (default), GWQ, AdaDim or FlexRound.</param>
    /// <param name="bits">2, 3, 4 (default) or 8.</param>
    /// <param name="groupSize">16, 32, 64, 128 (default), 256, or 0 for one group per row.</param>
    public static WeightQuantizationEstimator QuantizeWeights(this TransformsCatalog catalog, TextModelTransformer model, QuantizationMethod method = QuantizationMethod.Awq,
        int bits = 4, int groupSize = 128)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new WeightQuantizationEstimator(CatalogContext.Of(catalog), model, new WeightQuantizationEstimator.Options { Method = method, Bits = bits, GroupSize = groupSize });
    }

    /// <summary>Quantizes the encoder weights of a fitted text model, with all options.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="model">A fitted <c>TransformerEmbedding</c> transform or fine-tuned text model.</param>
    /// <param name="options">The options.</param>
    public static WeightQuantizationEstimator QuantizeWeights(this TransformsCatalog catalog, TextModelTransformer model, WeightQuantizationEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new WeightQuantizationEstimator(CatalogContext.Of(catalog), model, options);
    }
}
