using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Text.Modules;

/// <summary>
/// Inverted dropout whose masks come from a given generator, so that a seed reproduces a fine-tune (libtorch's dropout draws
/// from the process-wide generator, which parallel fits would share). The encoder's dropout modules, the adapters and the
/// fine-tuning head all use it.
/// </summary>
internal static class SeededDropout
{
    public static Tensor Apply(Tensor x, double rate, Generator? generator)
    {
        if (rate <= 0) return x.alias();
        using var keep = empty_like(x).bernoulli_(1 - rate, generator);
        return x * keep / (1 - rate);
    }
}
