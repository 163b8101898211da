namespace Microsoft.ML.PaperExtensions.FineTuning;

/// <summary>How a text fine-tune changes the encoder.</summary>
public enum FineTuningMethod
{
    /// <summary>LoRA: W x + b + (alpha / r) B A dropout(x), B = 0 at start (Hu et al. 2021).</summary>
    Lora,
    /// <summary>rsLoRA: LoRA with the rank-stabilised scale alpha / sqrt(r) (Kalajdzievski 2023).</summary>
    RsLora,
    /// <summary>DoRA: a trained per-row magnitude times the direction of W + (alpha / r) B A (Liu et al. 2024).</summary>
    Dora,
    /// <summary>ALLoRA: no scale and no dropout; the gradients of A and B are scaled per output row by 1 / sqrt(||(BA)_i|| + 1/eta^2).</summary>
    AlLora,
    /// <summary>Every weight of the encoder trains (the baseline adapters are measured against).</summary>
    Full,
}

/// <summary>The adapter kinds (every method but <see cref="FineTuningMethod.Full"/>).</summary>
internal enum AdapterKind
{
    Lora = FineTuningMethod.Lora,
    RsLora = FineTuningMethod.RsLora,
    Dora = FineTuningMethod.Dora,
    AlLora = FineTuningMethod.AlLora,
}
