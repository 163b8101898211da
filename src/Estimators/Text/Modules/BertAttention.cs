using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Text.Modules;

/// <summary>Self-attention followed by its output projection and residual LayerNorm (Hugging Face <c>BertAttention</c>).</summary>
internal sealed class BertAttention : nn.Module<Tensor, Tensor, Tensor>
{
    [ComponentName(Name = "self")]
    private readonly BertSelfAttention selfAttention;
    private readonly BertDenseLayerNorm output;

    public BertAttention(BertConfig config) : base(nameof(BertAttention))
    {
        selfAttention = new BertSelfAttention(config);
        output = new BertDenseLayerNorm(config.HiddenSize, config);
        RegisterComponents();
    }

    internal BertSelfAttention SelfAttention => selfAttention;

    internal BertDenseLayerNorm Output => output;

    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        return output.forward(selfAttention.forward(hidden, additiveMask), hidden).MoveToOuterDisposeScope();
    }
}
