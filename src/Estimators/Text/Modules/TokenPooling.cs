using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Text.Modules;

/// <summary>One vector per text from the encoder's token vectors: their mean over the attention mask (at least 1e-9 tokens, as sentence-transformers) or the [CLS] vector.</summary>
internal static class TokenPooling
{
    /// <param name="hidden">[batch, length, hidden].</param>
    /// <param name="attentionMask">[batch, length], 1 for tokens.</param>
    /// <param name="pooling">Mean or CLS.</param>
    public static Tensor Pool(Tensor hidden, Tensor attentionMask, EmbeddingPooling pooling)
    {
        if (pooling == EmbeddingPooling.Cls) return hidden[.., 0];
        using var weights = attentionMask.to_type(hidden.dtype).unsqueeze(2);
        using var sum = (hidden * weights).sum(1);
        using var count = weights.sum(1).clamp_min(1e-9);
        return sum / count;
    }
}
