using Microsoft.ML.PaperExtensions.Text;
using Microsoft.ML.PaperExtensions.TextEmbedding;

namespace Microsoft.ML.PaperExtensions;

/// <summary>Transformer embeddings on ML.NET's text catalog: <c>mlContext.Transforms.Text.TransformerEmbedding(...)</c>.</summary>
public static class TextEmbeddingCatalog
{
    /// <summary>Embeds a text column with a pretrained BERT-family encoder (see <see cref="TextEmbeddingEstimator"/>).</summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="outputColumnName">The vector column to add.</param>
    /// <param name="inputColumnName">The text column.</param>
    /// <param name="modelPath">A Hugging Face folder, a folder with <c>model.onnx</c> and <c>vocab.txt</c>, or an <c>.onnx</c> file.</param>
    /// <param name="pooling">Mean of the token vectors or the [CLS] vector.</param>
    /// <param name="normalize">Divide each vector by its L2 norm.</param>
    /// <param name="maxSequenceLength">Tokens per text including [CLS] and [SEP].</param>
    public static TextEmbeddingEstimator TransformerEmbedding(this TransformsCatalog.TextTransforms catalog, string outputColumnName, string inputColumnName,
        string modelPath, EmbeddingPooling pooling = EmbeddingPooling.Mean, bool normalize = true, int maxSequenceLength = 256)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new TextEmbeddingEstimator(CatalogContext.Of(catalog), new TextEmbeddingEstimator.Options
        {
            OutputColumnName = outputColumnName, InputColumnName = inputColumnName, ModelPath = modelPath,
            Pooling = pooling, Normalize = normalize, MaxSequenceLength = maxSequenceLength,
        });
    }

    /// <summary>Embeds a text column with a pretrained BERT-family encoder, with all options.</summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="options">The options.</param>
    public static TextEmbeddingEstimator TransformerEmbedding(this TransformsCatalog.TextTransforms catalog, TextEmbeddingEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new TextEmbeddingEstimator(CatalogContext.Of(catalog), options);
    }
}
