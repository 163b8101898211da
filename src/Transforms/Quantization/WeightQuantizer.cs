using Microsoft.ML.PaperExtensions.Onnx;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.Text;
using Microsoft.ML.PaperExtensions.Text.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Quantization;

/// <summary>Calibration texts: the first <c>Fit</c> of them fit the quantizers, the rest measure the reported errors.</summary>
internal sealed record CalibrationTexts(IReadOnlyList<string> Texts, IReadOnlyList<string>? Pairs, int Fit);

/// <summary>
/// Quantizes the encoder Linears of a text model: runs the full-precision encoder on each calibration text alone (no padding),
/// gathers every target Linear's input statistics, for GWQ accumulates squared gradients, then quantizes Linear by Linear.
/// </summary>
internal static class WeightQuantizer
{
    public static (EncoderCheckpoint Checkpoint, IReadOnlyList<LayerQuantizationReport> Layers, long Tokens) Run(EncoderCheckpoint checkpoint, BertWordPieceTokenizer tokenizer,
        TextScorerSettings model, CalibrationTexts calibration, IReadOnlyList<string> targets, bool quantizeHead, LayerQuantizerSettings settings, TrainingContext context)
    {
        if (checkpoint.Quantized is { Count: > 0 })
            throw new InvalidOperationException("This model is already quantized; quantize the full-precision model instead.");
        var batches = Enumerable.Range(0, calibration.Texts.Count)
            .Select(i => tokenizer.EncodeBatch([calibration.Texts[i]], calibration.Pairs is null ? null : [calibration.Pairs[i]], model.MaxSequenceLength)).ToList();
        long fitTokens = batches.Take(calibration.Fit).Sum(b => (long)b.Length);

        using var encoder = BertModel.FromCheckpoint(checkpoint);
        encoder.to(context.Device);
        var layers = encoder.Linears().Where(l => targets.Contains(l.Path[(l.Path.LastIndexOf('.') + 1)..])).ToList();
        if (layers.Count == 0)
            throw new ArgumentException($"No Linear of the encoder is named {string.Join(", ", targets)}; valid names: query, key, value, dense.", "TargetModules");
        var recorders = new Dictionary<string, CalibrationRecorder>(StringComparer.Ordinal);
        var inputs = new Dictionary<string, LinearInputs>(StringComparer.Ordinal);
        foreach (var (path, module, replace) in layers)
        {
            var recorder = new CalibrationRecorder(module);
            replace(recorder);
            recorders[path] = recorder;
            inputs[path] = new LinearInputs(((Linear)module).in_features, fitTokens);
        }
        // The head (a Linear on the pooled vector) runs after the encoder in both passes; it is recorded like the others when it is quantized.
        using var head = model.Head is { } h ? Head(h, checkpoint.Config.HiddenSize, context.Device) : null;
        if (quantizeHead)
        {
            recorders[HeadName] = head ?? throw new ArgumentException("QuantizeHead is set, but the model has no head: an embedding model outputs the pooled vector.", "QuantizeHead");
            inputs[HeadName] = new LinearInputs(checkpoint.Config.HiddenSize, calibration.Fit);
        }
        try
        {
            using var threads = context.Threads(fitTokens * encoder.parameters().Sum(p => p.numel()));
            Record(encoder, head, batches, calibration.Fit, recorders, inputs, model.Pooling, context);
            var saliency = settings.Method == QuantizationMethod.Gwq
                ? Saliency(encoder, head, batches.Take(calibration.Fit).ToList(), recorders, model, context) : null;
            var packed = new Dictionary<string, PackedLinear>(StringComparer.Ordinal);
            var reports = new List<LayerQuantizationReport>();
            foreach (var (path, recorder) in recorders)
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var w = ((Linear)recorder.Inner).weight!.detach().cpu();
                var (layer, report) = LayerQuantizer.Quantize(path, w, inputs[path], settings, saliency?[path].cpu(), context.CancellationToken);
                packed[path] = layer;
                reports.Add(report);
                context.Monitor.Report(new TrainingProgress("quantize", reports.Count, recorders.Count, report.RelativeError));
            }
            foreach (var score in saliency?.Values.ToList() ?? []) score.Dispose();
            return (checkpoint with { Quantized = packed }, reports, fitTokens);
        }
        finally
        {
            foreach (var i in inputs.Values) i.Dispose();
        }
    }

    /// <summary>The checkpoint path under which a quantized head is stored (its initializers are <c>classifier.*</c>).</summary>
    public const string HeadName = "classifier";

    private static CalibrationRecorder Head(TextHeadWeights weights, int hidden, Device device)
    {
        var linear = nn.Linear(hidden, weights.Bias.Length);
        using (no_grad())
        {
            linear.weight!.copy_(tensor(weights.Weight, [weights.Bias.Length, hidden]));
            linear.bias!.copy_(tensor(weights.Bias));
        }
        foreach (var p in linear.parameters()) p.requires_grad = false;
        var recorder = new CalibrationRecorder(linear);
        recorder.to(device);
        return recorder;
    }

    private static void Record(BertModel encoder, CalibrationRecorder? head, IReadOnlyList<TokenBatch> batches, int fit, IReadOnlyDictionary<string, CalibrationRecorder> recorders,
        IReadOnlyDictionary<string, LinearInputs> inputs, EmbeddingPooling pooling, TrainingContext context)
    {
        using var grad = no_grad();
        for (int i = 0; i < batches.Count; i++)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            bool heldOut = i >= fit;
            foreach (var (path, recorder) in recorders)
            {
                var target = inputs[path];
                recorder.Record = rows => target.Add(rows, heldOut);
            }
            var b = batches[i];
            var device = context.Device;
            var mask = tensor(b.AttentionMask, [1, b.Length], device: device);
            var hidden = encoder.forward(tensor(b.InputIds, [1, b.Length], device: device), mask, tensor(b.TokenTypeIds, [1, b.Length], device: device));
            head?.forward(TokenPooling.Pool(hidden, mask, pooling));
            context.Monitor.Report(new TrainingProgress("calibrate", i + 1, batches.Count));
        }
        foreach (var recorder in recorders.Values) recorder.Record = null;
        foreach (var (path, target) in inputs)
        {
            double total = target.Gram.sum().item<double>() + target.HeldOutGram.sum().item<double>();
            if (!double.IsFinite(total))
                throw new InvalidDataException($"The calibration inputs of Linear '{path}' are not finite ({total}): the encoder produced NaN or infinite activations on the calibration texts.");
        }
    }

    /// <summary>
    /// GWQ's scores: Σ over texts of (dL/dW)^2 with L = r · output, r a fresh random ±1 vector per text and output the model's
    /// output (the pooled, normalised embedding, or the head's logits). In expectation over r this is the diagonal of the
    /// Gauss-Newton matrix of the output: how much each weight moves what the model outputs.
    /// </summary>
    private static Dictionary<string, Tensor> Saliency(BertModel encoder, CalibrationRecorder? head, IReadOnlyList<TokenBatch> batches, IReadOnlyDictionary<string, CalibrationRecorder> recorders,
        TextScorerSettings model, TrainingContext context)
    {
        var weights = recorders.ToDictionary(r => r.Key, r => ((Linear)r.Value.Inner).weight!);
        var scores = weights.ToDictionary(w => w.Key, w => zeros_like(w.Value).DetachFromDisposeScope());
        var generator = new Generator((ulong)context.Seed);
        var device = context.Device;
        foreach (var p in encoder.parameters()) p.requires_grad = false;
        foreach (var w in weights.Values) w.requires_grad = true;
        try
        {
            for (int i = 0; i < batches.Count; i++)
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var b = batches[i];
                var mask = tensor(b.AttentionMask, [1, b.Length], device: device);
                var hidden = encoder.forward(tensor(b.InputIds, [1, b.Length], device: device), mask, tensor(b.TokenTypeIds, [1, b.Length], device: device));
                var output = TokenPooling.Pool(hidden, mask, model.Pooling);
                if (head is not null) output = head.forward(output);
                else if (model.Normalize) output = output / output.norm(1, keepdim: true).clamp_min(1e-12);
                var r = (empty(output.shape).uniform_(0, 1, generator).lt(0.5).to_type(output.dtype) * 2 - 1).to(device);
                (output * r).sum().backward();
                foreach (var (path, w) in weights)
                {
                    scores[path].add_(w.grad!.square());
                    w.grad!.zero_();
                }
                context.Monitor.Report(new TrainingProgress("gradients", i + 1, batches.Count));
            }
        }
        finally
        {
            foreach (var w in weights.Values) w.requires_grad = false;
        }
        return scores;
    }
}
