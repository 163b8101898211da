using Microsoft.ML.PaperExtensions.Text;
using Microsoft.ML.PaperExtensions.Text.Modules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.FineTuning;

/// <summary>Pools the encoder's tokens (mean over the mask, or [CLS]), applies dropout, and a Linear <c>classifier</c> [outputs, hidden].</summary>
internal sealed class TextHead : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear classifier;
    private readonly double _dropout;
    private readonly EmbeddingPooling _pooling;

    /// <summary>A head whose weights and bias are drawn from U(-1/sqrt(hidden), 1/sqrt(hidden)) (PyTorch's Linear default) with <paramref name="generator"/>.</summary>
    public TextHead(int hidden, int outputs, EmbeddingPooling pooling, double dropoutRate, Generator? generator) : base(nameof(TextHead))
    {
        classifier = nn.Linear(hidden, outputs);
        using (no_grad())
        {
            double bound = 1 / Math.Sqrt(hidden);
            classifier.weight!.uniform_(-bound, bound, generator);
            classifier.bias!.uniform_(-bound, bound, generator);
        }
        _dropout = dropoutRate;
        _pooling = pooling;
        RegisterComponents();
    }

    public Linear Classifier => classifier;

    /// <summary>The generator of the dropout masks in training.</summary>
    public Generator? DropoutGenerator { get; set; }

    /// <param name="hidden">[batch, length, hidden].</param>
    /// <param name="attentionMask">[batch, length], 1 for tokens.</param>
    public override Tensor forward(Tensor hidden, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var pooled = TokenPooling.Pool(hidden, attentionMask, _pooling);
        if (training) pooled = SeededDropout.Apply(pooled, _dropout, DropoutGenerator);
        return classifier.forward(pooled).MoveToOuterDisposeScope();
    }
}
