using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Quantization;

/// <summary>A Linear in its place in the encoder that hands its input rows [tokens, in] to <see cref="Record"/> before running.</summary>
internal sealed class CalibrationRecorder : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> inner;

    public CalibrationRecorder(nn.Module<Tensor, Tensor> linear) : base(nameof(CalibrationRecorder))
    {
        inner = linear;
        RegisterComponents();
    }

    /// <summary>The wrapped Linear.</summary>
    public nn.Module<Tensor, Tensor> Inner => inner;

    /// <summary>Receives the input of each forward; null records nothing.</summary>
    public Action<Tensor>? Record { get; set; }

    public override Tensor forward(Tensor x)
    {
        if (Record is { } record)
        {
            using var rows = x.detach().reshape(-1, x.shape[^1]);
            record(rows);
        }
        return inner.forward(x);
    }
}
