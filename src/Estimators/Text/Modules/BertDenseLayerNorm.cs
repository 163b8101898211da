using TorchSharp.Utils;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Text.Modules;

/// <summary>
/// <c>LayerNorm(dropout(dense(x)) + residual)</c>, dropout in training only: Hugging Face's <c>BertSelfOutput</c> (hidden to hidden) and
/// <c>BertOutput</c> (intermediate to hidden) are this one block with different input widths.
/// </summary>
internal sealed class BertDenseLayerNorm : nn.Module<Tensor, Tensor, Tensor>
{
    private nn.Module<Tensor, Tensor> dense;
    [ComponentName(Name = "LayerNorm")]
    private readonly LayerNorm layerNorm;
    private readonly BertDropout dropout;

    public BertDenseLayerNorm(int inputSize, BertConfig config) : base(nameof(BertDenseLayerNorm))
    {
        dense = nn.Linear(inputSize, config.HiddenSize);
        layerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        dropout = new BertDropout(config.HiddenDropoutProb);
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

    public override Tensor forward(Tensor input, Tensor residual)
    {
        using var scope = NewDisposeScope();
        return layerNorm.forward(dropout.forward(dense.forward(input)) + residual).MoveToOuterDisposeScope();
    }
}
