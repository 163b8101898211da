using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Text.Modules;

/// <summary>One post-LayerNorm transformer layer (Hugging Face <c>BertLayer</c>).</summary>
internal sealed class BertLayer : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly BertAttention attention;
    private readonly BertIntermediate intermediate;
    private readonly BertDenseLayerNorm output;

    public BertLayer(BertConfig config) : base(nameof(BertLayer))
    {
        attention = new BertAttention(config);
        intermediate = new BertIntermediate(config);
        output = new BertDenseLayerNorm(config.IntermediateSize, config);
        RegisterComponents();
    }

    internal BertAttention Attention => attention;

    internal BertIntermediate Intermediate => intermediate;

    internal BertDenseLayerNorm Output => output;

    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        var attended = attention.forward(hidden, additiveMask);
        return output.forward(intermediate.forward(attended), attended).MoveToOuterDisposeScope();
    }
}
