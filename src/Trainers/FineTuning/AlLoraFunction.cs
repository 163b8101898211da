using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace Microsoft.ML.PaperExtensions.FineTuning;

/// <summary>How <see cref="LoraLinear"/> gives ALLoRA's A and B their row-scaled gradients (spec lora.md 5.2).</summary>
internal enum AlLoraGradientPath
{
    /// <summary>Option 2: the adapter branch twice, once with A and B detached and once with x detached and scaled by s.</summary>
    DetachTrick,

    /// <summary>Option 1: one custom autograd function (<see cref="AlLoraFunction"/>) with the backward of spec 5.1 written out.</summary>
    AutogradFunction,
}

/// <summary>
/// ALLoRA's adapter branch as a custom autograd function (spec lora.md 5.2, option 1): forward x A^T B^T; backward
/// grad_x = G B A (unscaled), grad_A = B^T diag(s) G^T x, grad_B = diag(s) G^T (x A^T), with G = dL/dy flattened to
/// [M, out] and s the detached row factors [out]. Apply as <c>AlLoraFunction.apply(x, A, B, s)</c>; s gets no gradient.
/// </summary>
internal sealed class AlLoraFunction : SingleTensorFunction<AlLoraFunction>
{
    /// <inheritdoc />
    public override string Name => "AlLoraBackward";

    /// <summary>x [..., in], A [r, in], B [out, r], s [out] -> x A^T B^T [..., out]; runs without autograd (TorchSharp turns it off).</summary>
    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        var (x, a, b, s) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], (Tensor)vars[3]);
        ctx.save_for_backward([x, a, b, s]);
        return nn.functional.linear(nn.functional.linear(x, a), b);
    }

    /// <summary>The gradients of x, A, B and s (null: s is a constant) from G = dL/dy, in the order of the inputs.</summary>
    public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output)
    {
        using var scope = NewDisposeScope();
        var saved = ctx.get_saved_variables();
        var (x, a, b, s) = (saved[0], saved[1], saved[2], saved[3]);
        var gb = grad_output.matmul(b);                                             // G B        [..., r]
        var gradX = gb.matmul(a);                                                  // G B A      [..., in]
        var g = grad_output.reshape(-1, grad_output.shape[^1]);                    // G          [M, out]
        var x2 = x.reshape(-1, x.shape[^1]);                                       // X          [M, in]
        var scaled = g * s;                                                        // G diag(s)  [M, out]
        var gradA = scaled.matmul(b).t().matmul(x2);                               // B^T diag(s) G^T X  [r, in]
        var gradB = scaled.t().matmul(x2.matmul(a.t()));                           // diag(s) G^T X A^T  [out, r]
        // Handed to libtorch, which keeps its own references; the outer scope (or the finaliser) frees these wrappers.
        return [gradX.MoveToOuterDisposeScope(), gradA.MoveToOuterDisposeScope(), gradB.MoveToOuterDisposeScope(), null!];
    }
}
