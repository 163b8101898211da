using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Text.Modules;

/// <summary>
/// Inverted dropout of the encoder (Hugging Face's <c>dropout</c> submodules) whose masks come from <see cref="Generator"/>, so that
/// a seed repeats a fine-tune (libtorch's own dropout draws from the process-wide generator, which parallel fits would share).
/// Only in training mode and at a positive rate; otherwise the input passes through untouched.
/// </summary>
internal sealed class BertDropout : nn.Module<Tensor, Tensor>
{
    public BertDropout(double rate) : base(nameof(BertDropout))
    {
        if (!(rate >= 0 && rate < 1))
            throw new ArgumentOutOfRangeException(nameof(rate), rate, $"A dropout probability must be in [0, 1); got {rate}.");
        Rate = rate;
    }

    /// <summary>The probability of zeroing an element.</summary>
    public double Rate { get; }

    /// <summary>Whether <see cref="forward"/> draws masks now: training mode and a positive rate.</summary>
    public bool Active => training && Rate > 0;

    /// <summary>The generator of the masks (null: libtorch's global one); <see cref="BertModel.DropoutGenerator"/> sets every one.</summary>
    public Generator? Generator { get; set; }

    /// <summary>x with each element zeroed with probability <see cref="Rate"/> and the rest divided by 1 - rate, in training; x itself otherwise.</summary>
    public override Tensor forward(Tensor x)
    {
        return Active ? SeededDropout.Apply(x, Rate, Generator) : x.alias();
    }
}
