using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.PaperExtensions.Onnx;
using Microsoft.ML.PaperExtensions.Text;

namespace Microsoft.ML.PaperExtensions.TextEmbedding;

/// <summary>
/// A fitted <see cref="TextEmbeddingEstimator"/>: the encoder as ONNX graphs. <see cref="Transform"/> tokenizes blocks of
/// texts (padded to the block's longest) and runs the batched graph in one ONNX Runtime session; the saved model runs the
/// same encoder through ML.NET's <c>OnnxTransformer</c> one row at a time, behind the tokenizer's custom mapping.
/// </summary>
/// <remarks>Input column: the text column. Output column: <c>Vector&lt;Single, hidden&gt;</c>.</remarks>
public sealed class TextEmbeddingTransformer : ITransformer, IDisposable
{
    private readonly byte[] _graph;
    private readonly TransformerChain<ITransformer> _chain;
    private readonly DataViewType _inputType;
    private readonly Lazy<InferenceSession> _session;
    private readonly Lazy<TorchEmbedder> _torch;

    internal TextEmbeddingTransformer(MLContext mlContext, PretrainedEncoder encoder, TextEmbeddingSettings settings, DataViewSchema inputSchema)
    {
        Encoder = encoder;
        Settings = settings;
        _inputType = inputSchema[settings.InputColumnName].Type;
        _graph = BertOnnxGraph.Build(encoder.Checkpoint, settings.Pooling, settings.Normalize).ToBytes();
        _chain = BuildChain(mlContext, encoder, settings, inputSchema);
        _session = new Lazy<InferenceSession>(() => new InferenceSession(_graph), LazyThreadSafetyMode.ExecutionAndPublication);
        _torch = new Lazy<TorchEmbedder>(() => new TorchEmbedder(encoder.Checkpoint, settings), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The encoder and its vocabulary.</summary>
    public PretrainedEncoder Encoder { get; }

    /// <summary>Length of the output vectors (the encoder's hidden size).</summary>
    public int Dimension => Encoder.Config.HiddenSize;

    internal TextEmbeddingSettings Settings { get; }

    internal InferenceSession Session => _session.Value;

    internal TorchEmbedder Torch => _torch.Value;

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <summary>
    /// Writes the batched encoder graph (inputs <c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c> [N, T] int64;
    /// output <c>Embedding</c> [N, hidden]) for ONNX Runtime without ML.NET; tokenization is not part of it.
    /// </summary>
    public void SaveAsOnnx(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(_graph);
    }

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        CheckInput(inputSchema);
        return _chain.GetOutputSchema(inputSchema);
    }

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        CheckInput(inputSchema);
        return ((ITransformer)_chain).GetRowToRowMapper(inputSchema);
    }

    /// <summary>Embeds lazily, <see cref="TextEmbeddingEstimator.Options.BatchSize"/> texts per run of the encoder.</summary>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckInput(input.Schema);
        return new TextEmbeddingDataView(input, this, _chain.GetOutputSchema(input.Schema));
    }

    /// <summary>The same transformer running the TorchSharp encoder on <paramref name="device"/> in process (tests compare the two paths on the CPU).</summary>
    internal TextEmbeddingTransformer OnDevice(MLContext mlContext, TorchSharp.torch.Device device, DataViewSchema inputSchema) =>
        new(mlContext, Encoder, Settings with { TorchDevice = device }, inputSchema);

    /// <summary>Embeds through the saved chain, row by row (what a loaded model does).</summary>
    internal IDataView TransformRowByRow(IDataView input) => _chain.Transform(input);

    void ICanSaveModel.Save(ModelSaveContext ctx) => ((ICanSaveModel)_chain).Save(ctx);

    /// <inheritdoc />
    public void Dispose()
    {
        _chain.Dispose();
        if (_session.IsValueCreated) _session.Value.Dispose();
        if (_torch.IsValueCreated) _torch.Value.Dispose();
    }

    private void CheckInput(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var column = inputSchema.GetColumnOrNull(Settings.InputColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Text column '{Settings.InputColumnName}' was not found in the input schema.");
        if (!column.Type.Equals(_inputType))
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Text column '{Settings.InputColumnName}' must be {_inputType}, but is {column.Type}.");
    }

    private static TransformerChain<ITransformer> BuildChain(MLContext ml, PretrainedEncoder encoder, TextEmbeddingSettings settings, DataViewSchema inputSchema)
    {
        var perRow = BertOnnxGraph.Build(encoder.Checkpoint, settings.Pooling, settings.Normalize, WordPieceMapping.Slots, WordPieceMapping.Prefix).ToBytes();
        IEstimator<ITransformer> pipeline = new EstimatorChain<ITransformer>();
        foreach (var step in WordPieceMapping.Steps(ml, settings.InputColumnName, WordPieceMapping.Encode(encoder.Tokenizer, settings.MaxSequenceLength)))
            pipeline = pipeline.Append(step);
        pipeline = pipeline
            .Append(ml.Transforms.ApplyOnnxModel([WordPieceMapping.EmbeddingColumn], [WordPieceMapping.IdsColumn, WordPieceMapping.MaskColumn, WordPieceMapping.TypesColumn],
                new MemoryStream(perRow), gpuDeviceId: null, fallbackToCpu: true))
            .Append(ml.Transforms.CopyColumns(settings.OutputColumnName, WordPieceMapping.EmbeddingColumn))
            .Append(ml.Transforms.DropColumns(WordPieceMapping.TextColumn, WordPieceMapping.KeyColumn, WordPieceMapping.VocabularyColumn,
                WordPieceMapping.IdsColumn, WordPieceMapping.MaskColumn, WordPieceMapping.TypesColumn, WordPieceMapping.EmbeddingColumn));
        var fitted = pipeline.Fit(new SchemaOnlyDataView(inputSchema));
        return new TransformerChain<ITransformer>(Flatten(fitted).ToArray());

        static IEnumerable<ITransformer> Flatten(ITransformer t) => t is TransformerChain<ITransformer> chain ? chain.SelectMany(Flatten) : [t];
    }
}
