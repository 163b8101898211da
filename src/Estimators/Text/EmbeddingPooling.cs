namespace Microsoft.ML.PaperExtensions.Text;

/// <summary>How token vectors become one text vector.</summary>
public enum EmbeddingPooling
{
    /// <summary>Mean of the token vectors over the attention mask (sentence-transformers' default).</summary>
    Mean,
    /// <summary>The vector of the first token, [CLS].</summary>
    Cls,
}
