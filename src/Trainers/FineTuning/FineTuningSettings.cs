using Microsoft.ML.PaperExtensions.Text;

namespace Microsoft.ML.PaperExtensions.FineTuning;

/// <summary>The optimizer of a fine-tune.</summary>
public enum FineTuningOptimizer
{
    /// <summary>AdamW (decoupled weight decay), as Hugging Face's Trainer.</summary>
    AdamW,
    /// <summary>SGD with momentum 0.9 (ALLoRA's effective learning rate eta x lr is exact only here).</summary>
    Sgd,
}

/// <summary>What a fine-tune does, fixed at Fit.</summary>
/// <param name="Adapters">The adapters to train; null trains every weight of the encoder (full fine-tuning).</param>
/// <param name="Outputs">Classes of the head (2 or more), or 1 for regression.</param>
/// <param name="Pooling">How token vectors become the head's input.</param>
/// <param name="Optimizer">AdamW or SGD.</param>
/// <param name="LearningRate">Peak learning rate.</param>
/// <param name="WeightDecay">Weight decay of the trained parameters.</param>
/// <param name="WarmupFraction">Share of the steps over which the rate rises linearly from 0; it then falls linearly to 0.</param>
/// <param name="GradientClipping">Largest L2 norm of the gradient of all trained parameters; 0 turns clipping off.</param>
/// <param name="BatchSize">Texts per step.</param>
/// <param name="Epochs">Passes over the training texts.</param>
/// <param name="MaxSequenceLength">Tokens per text (or pair) including the special tokens; longer texts are cut.</param>
/// <param name="HeadDropout">Dropout on the pooled vector before the head, in training.</param>
internal sealed record FineTuningSettings(AdapterSettings? Adapters, int Outputs, EmbeddingPooling Pooling, FineTuningOptimizer Optimizer, double LearningRate,
    double WeightDecay, double WarmupFraction, double GradientClipping, int BatchSize, int Epochs, int MaxSequenceLength, double HeadDropout)
{
    public bool IsRegression => Outputs == 1;
}
