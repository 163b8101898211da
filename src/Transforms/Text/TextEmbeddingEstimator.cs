using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.Text;

namespace Microsoft.ML.PaperExtensions.TextEmbedding;

/// <summary>
/// Sentence embeddings from a pretrained BERT-family encoder (for example all-MiniLM-L6-v2): a text column in, a float
/// vector of the encoder's hidden size out. Nothing is trained; <see cref="Fit"/> loads the model and writes it as one ONNX
/// graph (encoder + pooling + optional L2 normalisation), so a saved model needs ONNX Runtime but no TorchSharp.
/// </summary>
/// <remarks>
/// <para>Input column: <see cref="Options.InputColumnName"/>, text. Output column: <see cref="Options.OutputColumnName"/>,
/// <c>Vector&lt;Single, hidden&gt;</c>.</para>
/// <para>Texts are WordPiece-tokenized as the model's tokenizer does (uncased models lower-case and strip accents) and cut
/// to <see cref="Options.MaxSequenceLength"/> tokens including [CLS] and [SEP]; an empty text is embedded as [CLS][SEP].
/// Loading a saved model needs <c>mlContext.ComponentCatalog.RegisterAssembly(typeof(PretrainedEncoder).Assembly)</c>
/// first (the tokenizer is an ML.NET custom mapping).</para>
/// </remarks>
public sealed class TextEmbeddingEstimator : IEstimator<TextEmbeddingTransformer>
{
    private readonly MLContext _mlContext;
    private readonly Options _options;

    /// <summary>Options of <see cref="TextEmbeddingEstimator"/>.</summary>
    public sealed class Options
    {
        /// <summary>The output column: the text's vector. Default <c>Embedding</c>.</summary>
        public string OutputColumnName { get; set; } = "Embedding";

        /// <summary>The text column. Default <c>Text</c>.</summary>
        public string InputColumnName { get; set; } = "Text";

        /// <summary>A Hugging Face folder, a folder with <c>model.onnx</c> and <c>vocab.txt</c>, or an <c>.onnx</c> file (see <see cref="PretrainedEncoder.Load"/>).</summary>
        public string ModelPath { get; set; } = "";

        /// <summary>The WordPiece <c>vocab.txt</c>, when it is not in the model's folder.</summary>
        public string? VocabularyPath { get; set; }

        /// <summary>Lower-case texts (uncased model); null takes the config's <c>do_lower_case</c> or infers it from the vocabulary.</summary>
        public bool? LowerCase { get; set; }

        /// <summary>Mean of the token vectors (default, as sentence-transformers' MiniLM) or the [CLS] vector.</summary>
        public EmbeddingPooling Pooling { get; set; } = EmbeddingPooling.Mean;

        /// <summary>Divide each vector by its L2 norm, so dot products are cosines. Default true.</summary>
        public bool Normalize { get; set; } = true;

        /// <summary>Tokens per text including [CLS] and [SEP]; longer texts are cut. Default 256 (sentence-transformers' MiniLM), at most the model's positions and 512.</summary>
        public int MaxSequenceLength { get; set; } = 256;

        /// <summary>Texts per run when <c>Transform</c> embeds in process. Default 32.</summary>
        public int BatchSize { get; set; } = 32;

        /// <summary>
        /// Where <c>Transform</c> runs the encoder in process: <c>Cpu</c> runs the ONNX graph in ONNX Runtime; <c>Cuda</c> runs the
        /// TorchSharp encoder on the GPU; <c>Auto</c> (default) takes CUDA when libtorch has it. A saved model always runs the ONNX graph.
        /// </summary>
        public ComputeDevice Device { get; set; } = ComputeDevice.Auto;
    }

    internal TextEmbeddingEstimator(MLContext mlContext, Options options)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.OutputColumnName, nameof(Options.OutputColumnName));
        ArgumentException.ThrowIfNullOrWhiteSpace(options.InputColumnName, nameof(Options.InputColumnName));
        if (string.IsNullOrWhiteSpace(options.ModelPath))
            throw new ArgumentException("ModelPath must name a model folder or an .onnx file.", nameof(Options.ModelPath));
        if (options.MaxSequenceLength is < 2 or > WordPieceMapping.Slots)
            throw new ArgumentOutOfRangeException(nameof(Options.MaxSequenceLength), options.MaxSequenceLength, $"MaxSequenceLength must be between 2 and {WordPieceMapping.Slots}.");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1, nameof(Options.BatchSize));
        _mlContext = mlContext;
        _options = options;
    }

    private InputColumns Inputs() => new InputColumns().Add("text", nameof(Options.InputColumnName), _options.InputColumnName, ColumnTypes.Text, "Text");

    /// <summary>Loads the model and builds the transformer; reads no rows of <paramref name="input"/>, only its schema.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The text column is missing or not text.</exception>
    /// <exception cref="FileNotFoundException">A model file is missing.</exception>
    /// <exception cref="InvalidDataException">The model is not a BERT-family encoder, or its vocabulary does not fit.</exception>
    public TextEmbeddingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Inputs().Check(input.Schema);
        var encoder = PretrainedEncoder.Load(_options.ModelPath, _options.VocabularyPath, _options.LowerCase);
        if (_options.MaxSequenceLength > encoder.Config.MaxPositionEmbeddings)
            throw new ArgumentOutOfRangeException(nameof(Options.MaxSequenceLength), _options.MaxSequenceLength,
                $"MaxSequenceLength {_options.MaxSequenceLength} exceeds the {encoder.Config.MaxPositionEmbeddings} positions of {encoder.Source}.");
        var device = TorchRuntime.ResolveDevice(_options.Device, _mlContext);
        return new TextEmbeddingTransformer(_mlContext, encoder, new TextScorerSettings(_options.InputColumnName, null, _options.MaxSequenceLength, _options.BatchSize,
            _options.Pooling, _options.Normalize, _options.OutputColumnName, TorchDevice: device.type == TorchSharp.DeviceType.CUDA ? device : null), input.Schema);
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        Inputs().Check(inputSchema);
        return SchemaShapes.With(inputSchema, SchemaShapes.Vector(_options.OutputColumnName, NumberDataViewType.Single));
    }
}
