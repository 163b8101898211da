using TorchSharp.Utils;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Text.Modules;

/// <summary>
/// <c>LayerNorm(dense(x) + residual)</c>: Hugging Face's <c>BertSelfOutput</c> (hidden to hidden) and
/// <c>BertOutput</c> (intermediate to hidden) are this one block with different input widths.
/// </summary>
internal sealed class BertDenseLayerNorm : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> dense;
    [ComponentName(Name = "LayerNorm")]
    private readonly LayerNorm layerNorm;

    public BertDenseLayerNorm(int inputSize, BertConfig config) : base(nameof(BertDenseLayerNorm))
    {
        dense = nn.Linear(inputSize, config.HiddenSize);
        layerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input, Tensor residual)
    {
        using var scope = NewDisposeScope();
        return layerNorm.forward(dense.forward(input) + residual).MoveToOuterDisposeScope();
    }
}
