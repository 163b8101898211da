using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Text.Modules;

/// <summary>Multi-head scaled dot-product attention with <c>query</c>/<c>key</c>/<c>value</c> Linears (Hugging Face <c>BertSelfAttention</c>).</summary>
internal sealed class BertSelfAttention : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> query;
    private readonly nn.Module<Tensor, Tensor> key;
    private readonly nn.Module<Tensor, Tensor> value;
    private readonly int heads;
    private readonly int headSize;

    public BertSelfAttention(BertConfig config) : base(nameof(BertSelfAttention))
    {
        query = nn.Linear(config.HiddenSize, config.HiddenSize);
        key = nn.Linear(config.HiddenSize, config.HiddenSize);
        value = nn.Linear(config.HiddenSize, config.HiddenSize);
        heads = config.NumAttentionHeads;
        headSize = config.HeadSize;
        RegisterComponents();
    }

    /// <param name="hidden">[batch, length, hidden].</param>
    /// <param name="additiveMask">[batch, 1, 1, length]: 0 for tokens, a large negative number for padding.</param>
    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        long batch = hidden.shape[0], length = hidden.shape[1];
        Tensor Heads(Tensor t) => t.view(batch, length, heads, headSize).transpose(1, 2);
        // softmax(Q K^T / sqrt(d) + mask) V, one kernel where libtorch has a fused one.
        var context = nn.functional.scaled_dot_product_attention(
            Heads(query.forward(hidden)), Heads(key.forward(hidden)), Heads(value.forward(hidden)), additiveMask);
        return context.transpose(1, 2).reshape(batch, length, heads * headSize).MoveToOuterDisposeScope();
    }
}
