using static TorchSharp.torch;
using Microsoft.ML.PaperExtensions.Runtime;

namespace Microsoft.ML.PaperExtensions.Quantization;

/// <summary>
/// FlexRound's learned rounding (spec 3.5) for one Linear with its weights frozen: W_hat = s1 * round(W / (s1 * S2 * s3)),
/// s1 per group (initialised at the RTN scale, so the start equals RTN), S2 per weight and s3 per output row (both 1 at the
/// start), all in log space; Adam on the three with a cosine learning rate down to 0. The objective is the Linear's own
/// output error on its calibration inputs, tr(D G D^T) / (T * out) with D = W_hat - W (the spec trains block by block; one
/// Linear at a time needs no block forward and the same Gram matrix as AWQ). Deployed as codes, s1 and zero points: RTN's size.
/// </summary>
internal static class FlexRound
{
    public static GroupCodes Fit(Tensor w, LinearInputs inputs, QuantizerSettings settings, int iterations, double learningRate, CancellationToken cancellationToken)
    {
        using var scope = NewDisposeScope();
        long outputs = w.shape[0], columns = w.shape[1];
        int g = settings.GroupSize(columns);
        long blocks = (columns + g - 1) / g, pad = blocks * g - columns;
        float maxInt = (1 << settings.Bits) - 1;
        using var start = settings.Quantize(w);
        var grouped = nn.functional.pad(w, [0, pad]).view(outputs, blocks, g);
        var zero = start.Zeros.unsqueeze(-1);
        var sign = start.Scales.sign().unsqueeze(-1);
        var logScale = new TorchSharp.Modules.Parameter(start.Scales.abs().log().unsqueeze(-1).detach().clone());
        var logWeight = new TorchSharp.Modules.Parameter(zeros(outputs, blocks, g));
        var logRow = new TorchSharp.Modules.Parameter(zeros(outputs, 1, 1));
        var gram = inputs.Gram.to_type(ScalarType.Float32);
        double denominator = (double)inputs.Count * outputs;

        Tensor Codes(bool straightThrough)
        {
            var ratio = grouped / (sign * (logScale + logWeight + logRow).exp());
            var rounded = straightThrough ? ratio + (ratio.round() - ratio).detach() : ratio.round();
            return (rounded + zero).clamp(0, maxInt);
        }

        var optimizer = optim.Adam([logScale, logWeight, logRow], learningRate);
        for (int step = 0; step < iterations; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TorchFinalizerGate.SafePoint();
            using var stepScope = NewDisposeScope();
            foreach (var group in optimizer.ParamGroups) group.LearningRate = learningRate * 0.5 * (1 + Math.Cos(Math.PI * step / iterations));
            optimizer.zero_grad();
            var hat = ((Codes(true) - zero) * sign * logScale.exp()).view(outputs, -1).narrow(1, 0, columns);
            var d = hat - w;
            var loss = d.matmul(gram).mul(d).sum() / denominator;
            loss.backward();
            optimizer.step();
        }
        using (no_grad())
        {
            // Padded positions hold the zero point, as the group quantizer writes them.
            var codes = Codes(false);
            var real = nn.functional.pad(ones(outputs, columns, dtype: ScalarType.Bool), [0, pad], value: 0).view(outputs, blocks, g);
            codes = where(real, codes, zero.expand_as(codes));
            var scales = (sign * logScale.exp()).squeeze(-1);
            return new GroupCodes(codes.MoveToOuterDisposeScope(), scales.MoveToOuterDisposeScope(), start.Zeros.clone().MoveToOuterDisposeScope(), (int)columns);
        }
    }
}
