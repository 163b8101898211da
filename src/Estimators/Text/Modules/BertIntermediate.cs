using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Text.Modules;

/// <summary>Feed-forward expansion with the exact (erf) GELU (Hugging Face <c>BertIntermediate</c>).</summary>
internal sealed class BertIntermediate : nn.Module<Tensor, Tensor>
{
    private nn.Module<Tensor, Tensor> dense;

    public BertIntermediate(BertConfig config) : base(nameof(BertIntermediate))
    {
        dense = nn.Linear(config.HiddenSize, config.IntermediateSize);
        RegisterComponents();
    }

    /// <summary>The <c>dense</c> projection.</summary>
    internal nn.Module<Tensor, Tensor> Dense => dense;

    /// <summary>Puts <paramref name="module"/> in place of <c>dense</c>.</summary>
    internal void ReplaceDense(nn.Module<Tensor, Tensor> module)
    {
        dense = module;
        ModuleReplacement.Register(this, nameof(dense), module);
    }

    public override Tensor forward(Tensor hidden)
    {
        using var projected = dense.forward(hidden);
        return nn.functional.gelu(projected);
    }
}
