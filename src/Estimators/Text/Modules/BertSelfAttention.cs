using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Text.Modules;

/// <summary>Multi-head scaled dot-product attention with <c>query</c>/<c>key</c>/<c>value</c> Linears (Hugging Face <c>BertSelfAttention</c>).</summary>
internal sealed class BertSelfAttention : nn.Module<Tensor, Tensor, Tensor>
{
    private nn.Module<Tensor, Tensor> query;
    private nn.Module<Tensor, Tensor> key;
    private nn.Module<Tensor, Tensor> value;
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
