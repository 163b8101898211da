using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.PaperExtensions.Onnx;

namespace Microsoft.ML.PaperExtensions.Text;

/// <summary>What a text model predicts and how its texts are tokenized.</summary>
/// <param name="InputColumnName">The text column.</param>
/// <param name="PairColumnName">The second text of sentence pairs, or null.</param>
/// <param name="MaxSequenceLength">Tokens per text (or pair) including the special tokens.</param>
/// <param name="BatchSize">Texts per run in process.</param>
/// <param name="Pooling">Mean or [CLS] pooling.</param>
/// <param name="Normalize">L2-normalise the pooled vector (embeddings only).</param>
/// <param name="OutputColumnName">The embedding column, when there is no head.</param>
/// <param name="Head">A Linear head (classes or one number); null outputs the embedding.</param>
/// <param name="ClassNames">Class names of a classification head, in index order.</param>
/// <param name="TorchDevice">Embed in process with the TorchSharp encoder on this device; null runs the ONNX graph.</param>
internal sealed record TextScorerSettings(string InputColumnName, string? PairColumnName, int MaxSequenceLength, int BatchSize, EmbeddingPooling Pooling, bool Normalize,
    string OutputColumnName, TextHeadWeights? Head = null, IReadOnlyList<string>? ClassNames = null, TorchSharp.torch.Device? TorchDevice = null);

/// <summary>
/// A text model (encoder, pooling, optional head) as ML.NET runs it. In process, <see cref="Transform"/> tokenizes blocks of
/// texts padded to the block's longest and runs the batched graph in one ONNX Runtime session (or the TorchSharp encoder on
/// a GPU). The saved chain is the tokenizer steps of <see cref="WordPieceMapping"/>, then ML.NET's <c>OnnxTransformer</c> on
/// a per-row graph (fixed-width token vectors cut to the row's tokens) and the usual conversions of outputs (keys with class
/// names); tests assert both paths give the same values.
/// </summary>
internal sealed class TextScorer : IDisposable
{
    private readonly byte[] _graph;
    private readonly TransformerChain<ITransformer> _chain;
    private readonly DataViewType _inputType;
    private readonly Lazy<InferenceSession> _session;
    private readonly Lazy<TorchEmbedder>? _torch;

    public TextScorer(MLContext mlContext, EncoderCheckpoint checkpoint, BertWordPieceTokenizer tokenizer, TextScorerSettings settings, DataViewSchema inputSchema)
    {
        Settings = settings;
        Checkpoint = checkpoint;
        Tokenizer = tokenizer;
        _inputType = inputSchema[settings.InputColumnName].Type;
        Outputs = settings.Head is null ? [PredictionColumn.Vector(settings.OutputColumnName)]
            : settings.Head.Bias.Length == 1 ? [PredictionColumn.Scalar(BertOnnxGraph.Score)]
            : [PredictionColumn.Vector(BertOnnxGraph.Score), PredictionColumn.Key(BertOnnxGraph.PredictedLabel)];
        _graph = BertOnnxGraph.Build(checkpoint, settings.Pooling, settings.Normalize, head: settings.Head).ToBytes();
        _chain = BuildChain(mlContext, checkpoint, tokenizer, settings, inputSchema);
        _session = new Lazy<InferenceSession>(() => new InferenceSession(_graph), LazyThreadSafetyMode.ExecutionAndPublication);
        if (settings.TorchDevice is { } device && settings.Head is null)
            _torch = new Lazy<TorchEmbedder>(() => new TorchEmbedder(checkpoint, settings, device), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public TextScorerSettings Settings { get; }

    /// <summary>The weights the graph was written from (packed ones included).</summary>
    public EncoderCheckpoint Checkpoint { get; }

    public BertWordPieceTokenizer Tokenizer { get; }

    /// <summary>The columns the model adds, as the graph writes them.</summary>
    public IReadOnlyList<PredictionColumn> Outputs { get; }

    internal InferenceSession Session => _session.Value;

    internal TorchEmbedder? Torch => _torch?.Value;

    /// <summary>Writes the batched graph (token ids in, the outputs out) for ONNX Runtime without ML.NET.</summary>
    public void SaveAsOnnx(Stream stream) => stream.Write(_graph);

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        CheckInput(inputSchema);
        return _chain.GetOutputSchema(inputSchema);
    }

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        CheckInput(inputSchema);
        return ((ITransformer)_chain).GetRowToRowMapper(inputSchema);
    }

    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckInput(input.Schema);
        return new TextScoringDataView(input, this, _chain.GetOutputSchema(input.Schema));
    }

    /// <summary>Scores through the saved chain, row by row (what a loaded model does).</summary>
    public IDataView TransformRowByRow(IDataView input) => _chain.Transform(input);

    public void Save(ModelSaveContext ctx) => ((ICanSaveModel)_chain).Save(ctx);

    public void Dispose()
    {
        _chain.Dispose();
        if (_session.IsValueCreated) _session.Value.Dispose();
        if (_torch is { IsValueCreated: true }) _torch.Value.Dispose();
    }

    private void CheckInput(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        foreach (var name in new[] { Settings.InputColumnName, Settings.PairColumnName }.OfType<string>())
        {
            var column = inputSchema.GetColumnOrNull(name)
                ?? throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Text column '{name}' was not found in the input schema.");
            if (!column.Type.Equals(_inputType))
                throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Text column '{name}' must be {_inputType}, but is {column.Type}.");
        }
    }

    private static TransformerChain<ITransformer> BuildChain(MLContext ml, EncoderCheckpoint checkpoint, BertWordPieceTokenizer tokenizer, TextScorerSettings settings, DataViewSchema inputSchema)
    {
        var steps = new List<ITransformer>();
        var schema = inputSchema;
        void Add(ITransformer transformer)
        {
            steps.Add(transformer);
            schema = transformer.GetOutputSchema(schema);
        }
        void Fit(IEstimator<ITransformer> estimator) => Add(estimator.Fit(new SchemaOnlyDataView(schema)));

        foreach (var step in WordPieceMapping.Steps(ml, settings.InputColumnName, settings.PairColumnName, WordPieceMapping.Encode(tokenizer, settings.MaxSequenceLength)))
            Fit(step);
        var perRow = BertOnnxGraph.Build(checkpoint, settings.Pooling, settings.Normalize, WordPieceMapping.Slots, WordPieceMapping.Prefix, settings.Head);
        ModelDetails.Write(perRow, TextModelDetails.Component, TextModelDetails.From(checkpoint, tokenizer, settings));
        var temporary = WordPieceMapping.TemporaryColumns.Where(c => schema.GetColumnOrNull(c) is not null).ToList();
        if (settings.Head is null)
        {
            const string embedding = WordPieceMapping.Prefix + BertOnnxGraph.Embedding;
            Fit(ml.Transforms.ApplyOnnxModel([embedding], [WordPieceMapping.IdsColumn, WordPieceMapping.MaskColumn, WordPieceMapping.TypesColumn],
                new MemoryStream(perRow.ToBytes()), gpuDeviceId: null, fallbackToCpu: true));
            Fit(ml.Transforms.CopyColumns(settings.OutputColumnName, embedding));
            temporary.Add(embedding);
        }
        else
        {
            var keys = settings.ClassNames is { } names ? new Dictionary<string, IReadOnlyList<string>> { [BertOnnxGraph.PredictedLabel] = names } : [];
            var (scorer, _) = OnnxBackedTransformer.BuildScorer(ml, perRow.Build(), schema, keys, [], [], []);
            foreach (var step in scorer) Add(step);
        }
        Fit(ml.Transforms.DropColumns(temporary.ToArray()));
        return new TransformerChain<ITransformer>(steps.ToArray());
    }
}
