using TorchSharp;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.Text.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Text;

/// <summary>The TorchSharp encoder with the transform's pooling, on one device (a GPU when the transform runs there).</summary>
internal sealed class TorchEmbedder : IDisposable
{
    private readonly BertModel _model;
    private readonly TextScorerSettings _settings;
    private readonly Device _device;
    private readonly Lock _gate = new();

    public TorchEmbedder(EncoderCheckpoint checkpoint, TextScorerSettings settings, Device device)
    {
        _settings = settings;
        _device = device;
        _model = BertModel.FromCheckpoint(checkpoint);
        _model.to(_device);
    }

    /// <summary>Pooled (and normalised) vectors of one token batch, [rows * hidden] row-major.</summary>
    public float[] Embed(TokenBatch tokens)
    {
        lock (_gate)
        {
            using var finalizers = TorchFinalizerGate.Enter();
            using var scope = NewDisposeScope();
            using var grad = no_grad();
            long[] shape = [tokens.Rows, tokens.Length];
            var mask = tensor(tokens.AttentionMask, shape).to(_device);
            var hidden = _model.forward(tensor(tokens.InputIds, shape).to(_device), mask, tensor(tokens.TokenTypeIds, shape).to(_device));
            var pooled = TokenPooling.Pool(hidden, mask, _settings.Pooling);
            if (_settings.Normalize) pooled = pooled / pooled.norm(1, keepdim: true).clamp_min(1e-12);
            return pooled.cpu().data<float>().ToArray();
        }
    }

    public void Dispose() => _model.Dispose();
}
