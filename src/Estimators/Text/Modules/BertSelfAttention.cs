using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Text.Modules;

/// <summary>
/// Multi-head scaled dot-product attention with <c>query</c>/<c>key</c>/<c>value</c> Linears and, in training, dropout on the attention
/// weights (Hugging Face <c>BertSelfAttention</c>).
/// </summary>
internal sealed class BertSelfAttention : nn.Module<Tensor, Tensor, Tensor>
{
    private nn.Module<Tensor, Tensor> query;
    private nn.Module<Tensor, Tensor> key;
    private nn.Module<Tensor, Tensor> value;
    private readonly BertDropout dropout;
    private readonly int heads;
    private readonly int headSize;

    public BertSelfAttention(BertConfig config) : base(nameof(BertSelfAttention))
    {
        query = nn.Linear(config.HiddenSize, config.HiddenSize);
        key = nn.Linear(config.HiddenSize, config.HiddenSize);
        value = nn.Linear(config.HiddenSize, config.HiddenSize);
        dropout = new BertDropout(config.AttentionProbsDropoutProb);
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
        Tensor q = Heads(query.forward(hidden)), k = Heads(key.forward(hidden)), v = Heads(value.forward(hidden));
        // dropout(softmax(Q K^T / sqrt(d) + mask)) V. Without dropout (inference, or a zero rate): one kernel where libtorch has a
        // fused one. With it, written out: scaled_dot_product_attention's dropout_p would draw from the global generator, not the fit's.
        var context = dropout.Active
            ? dropout.forward(nn.functional.softmax(q.matmul(k.transpose(-2, -1)) / Math.Sqrt(headSize) + additiveMask, -1)).matmul(v)
            : nn.functional.scaled_dot_product_attention(q, k, v, additiveMask);
        return context.transpose(1, 2).reshape(batch, length, heads * headSize).MoveToOuterDisposeScope();
    }

    /// <summary>The <c>query</c>, <c>key</c> and <c>value</c> projections, by name.</summary>
    internal IEnumerable<(string Name, nn.Module<Tensor, Tensor> Module)> Projections() => [(nameof(query), query), (nameof(key), key), (nameof(value), value)];

    /// <summary>Puts <paramref name="module"/> in place of one projection (an adapter wrapping it).</summary>
    internal void Replace(string name, nn.Module<Tensor, Tensor> module)
    {
        switch (name)
        {
            case nameof(query): query = module; break;
            case nameof(key): key = module; break;
            case nameof(value): value = module; break;
            default: throw new ArgumentException($"No projection '{name}'.", nameof(name));
        }
        ModuleReplacement.Register(this, name, module);
    }
}
