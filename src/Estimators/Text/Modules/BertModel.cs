using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Text.Modules;

/// <summary>
/// A BERT-family encoder whose state-dict names equal Hugging Face's <c>BertModel</c>
/// (<c>embeddings.*</c>, <c>encoder.layer.{i}.attention.self.query.weight</c>, ..., optional <c>pooler.dense.*</c>).
/// Inference runs it in eval mode, where the forward has no dropout; in training mode (<c>train()</c>) it drops out as
/// <c>BertModel</c> does, at the config's <c>hidden_dropout_prob</c> and <c>attention_probs_dropout_prob</c>.
/// </summary>
internal sealed class BertModel : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly BertEmbeddings embeddings;
    private readonly BertEncoder encoder;
    private readonly BertPooler? pooler;

    public BertModel(BertConfig config, bool withPooler) : base(nameof(BertModel))
    {
        Config = config;
        embeddings = new BertEmbeddings(config);
        encoder = new BertEncoder(config);
        if (withPooler) pooler = new BertPooler(config);
        RegisterComponents();
    }

    public BertConfig Config { get; }

    /// <summary>The generator of every dropout mask of the encoder in training (null: libtorch's global one); a fit sets its own seeded one.</summary>
    internal Generator? DropoutGenerator
    {
        get => modules().OfType<BertDropout>().FirstOrDefault()?.Generator;
        set
        {
            foreach (var dropout in modules().OfType<BertDropout>()) dropout.Generator = value;
        }
    }

    /// <summary>A model holding the checkpoint's weights (float32, on the CPU).</summary>
    public static BertModel FromCheckpoint(EncoderCheckpoint checkpoint)
    {
        var model = new BertModel(checkpoint.Config, checkpoint.HasPooler);
        using (no_grad())
        {
            foreach (var (name, parameter) in model.named_parameters())
            {
                var source = checkpoint.Tensors[name];
                var packed = checkpoint.Quantized is { } q && name.EndsWith(".weight", StringComparison.Ordinal) && q.TryGetValue(name[..^".weight".Length], out var p) ? p : null;
                using var values = tensor(packed?.EffectiveWeight() ?? source.Values, source.Shape);
                parameter.copy_(values);
            }
        }
        model.eval();
        return model;
    }

    /// <summary>
    /// Every Linear of the encoder layers with its state-dict path (<c>encoder.layer.{i}.attention.self.query</c>, ...) and a way
    /// to put another module in its place (adapters wrap them; the pooler is left alone).
    /// </summary>
    internal IEnumerable<(string Path, nn.Module<Tensor, Tensor> Module, Action<nn.Module<Tensor, Tensor>> Replace)> Linears()
    {
        for (int i = 0; i < encoder.Layers.Count; i++)
        {
            var layer = encoder.Layers[i];
            string prefix = $"encoder.layer.{i}.";
            foreach (var (name, module) in layer.Attention.SelfAttention.Projections().ToList())
                yield return (prefix + "attention.self." + name, module, m => layer.Attention.SelfAttention.Replace(name, m));
            yield return (prefix + "attention.output.dense", layer.Attention.Output.Dense, layer.Attention.Output.ReplaceDense);
            yield return (prefix + "intermediate.dense", layer.Intermediate.Dense, layer.Intermediate.ReplaceDense);
            yield return (prefix + "output.dense", layer.Output.Dense, layer.Output.ReplaceDense);
        }
    }

    /// <summary>The last hidden state [batch, length, hidden].</summary>
    /// <param name="inputIds">[batch, length] int64 token ids.</param>
    /// <param name="attentionMask">[batch, length] int64, 1 for tokens and 0 for padding.</param>
    /// <param name="tokenTypeIds">[batch, length] int64 segment ids.</param>
    public override Tensor forward(Tensor inputIds, Tensor attentionMask, Tensor tokenTypeIds)
    {
        using var scope = NewDisposeScope();
        var hidden = embeddings.forward(inputIds, tokenTypeIds);
        // 0 where attended, the lowest float where padded, broadcast over heads and query positions.
        var additiveMask = (1 - attentionMask.to(hidden.dtype)).mul(finfo(hidden.dtype).min).view(attentionMask.shape[0], 1, 1, attentionMask.shape[1]);
        return encoder.forward(hidden, additiveMask).MoveToOuterDisposeScope();
    }

    /// <summary>The pooler's <c>tanh(dense(h[:, 0]))</c> of a last hidden state.</summary>
    /// <exception cref="InvalidOperationException">The checkpoint had no pooler.</exception>
    public Tensor Pool(Tensor lastHiddenState) =>
        (pooler ?? throw new InvalidOperationException("This encoder has no pooler (the checkpoint holds no pooler.dense tensors).")).forward(lastHiddenState);
}
