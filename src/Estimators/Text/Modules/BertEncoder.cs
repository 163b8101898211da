using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Text.Modules;

/// <summary>The stack of transformer layers (Hugging Face <c>BertEncoder</c>, state-dict prefix <c>encoder.layer.{i}</c>).</summary>
internal sealed class BertEncoder : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<BertLayer> layer;

    public BertEncoder(BertConfig config) : base(nameof(BertEncoder))
    {
        layer = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new BertLayer(config)).ToArray());
        RegisterComponents();
    }

    internal IList<BertLayer> Layers => layer;

    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        foreach (var l in layer) hidden = l.forward(hidden, additiveMask);
        return hidden.MoveToOuterDisposeScope();
    }
}
