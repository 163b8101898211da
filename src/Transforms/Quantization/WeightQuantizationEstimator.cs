using System.Diagnostics;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;
using Microsoft.ML.PaperExtensions.Onnx;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.Text;
using Microsoft.ML.SearchSpace;

namespace Microsoft.ML.PaperExtensions.Quantization;

/// <summary>
/// Quantizes the weights of a fitted text model of this package (a <c>TransformerEmbedding</c> transform or a fine-tuned text
/// classifier or regressor) to 2, 3, 4 or 8 bits by RTN, AWQ, GWQ, AdaDim or FlexRound. <see cref="PaperTrainerBase{T}.Fit(IDataView)"/>
/// reads calibration texts from the model's text column and returns a <see cref="QuantizedTextTransformer"/> with the same input
/// and output columns, predicting through ONNX Runtime's <c>com.microsoft.MatMulNBits</c>.
/// </summary>
/// <remarks>
/// <para>Input columns: the model's text column (and second text column for sentence pairs), text. Output columns: those of the
/// model (an embedding vector, or <c>Score</c> and <c>PredictedLabel</c>, or a regression <c>Score</c>).</para>
/// <para>Every Linear of the encoder layers named in <see cref="Options.TargetModules"/> is quantized, and the head with
/// <see cref="Options.QuantizeHead"/>; embeddings, LayerNorms and biases stay float32. The first <see cref="Options.CalibrationSamples"/> rows fit the quantizers; the next quarter as many
/// rows, when present, measure each layer's output error for the report.</para>
/// </remarks>
public sealed class WeightQuantizationEstimator : PaperTrainerBase<QuantizedTextTransformer>
{
    /// <summary>The bit widths: 3-bit codes are stored in MatMulNBits' 4-bit container.</summary>
    public static readonly IReadOnlyList<int> ValidBits = [2, 3, 4, 8];

    /// <summary>The group sizes: powers of two from 16 to 256 run as MatMulNBits blocks; 0 makes one group per row (per channel).</summary>
    public static readonly IReadOnlyList<int> ValidGroupSizes = [0, 16, 32, 64, 128, 256];

    private readonly TextModelTransformer _model;
    private readonly Options _options;

    /// <summary>Options of <see cref="WeightQuantizationEstimator"/>. The <c>[Choice]</c> attributes give what an AutoML search sweeps.</summary>
    public sealed class Options
    {
        /// <summary>RTN, AWQ (default), GWQ, AdaDim or FlexRound.</summary>
        public QuantizationMethod Method { get; set; } = QuantizationMethod.Awq;

        /// <summary>Bits per weight code: 2, 3, 4 (default) or 8.</summary>
        [Choice(new object[] { 3, 4, 8 }, 4)]
        public int Bits { get; set; } = 4;

        /// <summary>Weights per group sharing a scale and zero point: 16, 32, 64, 128 (default) or 256, or 0 for one group per row.</summary>
        [Choice(new object[] { 32, 64, 128 }, 128)]
        public int GroupSize { get; set; } = 128;

        /// <summary>Symmetric groups (zero point 2^(bits-1), as ONNX Runtime's symmetric quantizer); default false: a zero point per group.</summary>
        public bool Symmetric { get; set; }

        /// <summary>The Linears to quantize, by name: query, key, value, dense (default all four: every encoder Linear).</summary>
        public string[] TargetModules { get; set; } = ["query", "key", "value", "dense"];

        /// <summary>Also quantize the head of a fine-tuned model (the Linear on the pooled vector, <c>classifier</c>); default false: it stays float32 (it is tiny).</summary>
        public bool QuantizeHead { get; set; }

        /// <summary>Rows of the calibration data that fit the quantizers (default 128); the next quarter as many are held out for the report.</summary>
        public int CalibrationSamples { get; set; } = 128;

        /// <summary>GWQ: share of each Linear's weights kept exact (default 0.01).</summary>
        public double OutlierFraction { get; set; } = 0.01;

        /// <summary>FlexRound: Adam steps per Linear (default 200).</summary>
        public int FlexRoundIterations { get; set; } = 200;

        /// <summary>FlexRound: Adam's learning rate on the log-scales (default 3e-3), decayed to 0 on a cosine.</summary>
        public double FlexRoundLearningRate { get; set; } = 3e-3;

        /// <summary>
        /// Run MatMulNBits with <c>accuracy_level</c> 4: ONNX Runtime quantizes each layer's input to int8 blocks on the fly and
        /// multiplies in int8 (faster on CPUs with int8 dot products, slightly less exact). Default false: float32 arithmetic.
        /// </summary>
        public bool Int8Compute { get; set; }

        /// <summary>
        /// Keep the 4-bit codes in the model file but let ONNX Runtime expand them to float32 weights when the model loads (unpack +
        /// MatMul, folded at load): the file stays small and prediction runs exactly as fast as float32, but memory holds float32
        /// weights. Default false: MatMulNBits keeps the weights packed in memory too.
        /// </summary>
        public bool DequantizeAtLoad { get; set; }

        /// <summary>Seed of GWQ's random output projections; null draws one from the MLContext.</summary>
        public int? Seed { get; set; }

        /// <summary>Where the calibration forward passes (and GWQ's gradients) run: Auto (default, CUDA when libtorch has it), Cpu or Cuda; the code search runs on the CPU.</summary>
        public ComputeDevice Device { get; set; } = ComputeDevice.Auto;
    }

    internal WeightQuantizationEstimator(MLContext mlContext, TextModelTransformer model, Options options) : base(mlContext)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        if (!ValidBits.Contains(options.Bits))
            throw new ArgumentOutOfRangeException(nameof(Options.Bits), options.Bits, $"Bits must be one of {string.Join(", ", ValidBits)}, but is {options.Bits}.");
        if (!ValidGroupSizes.Contains(options.GroupSize))
            throw new ArgumentOutOfRangeException(nameof(Options.GroupSize), options.GroupSize,
                $"GroupSize must be one of {string.Join(", ", ValidGroupSizes)} (0 = one group per row), but is {options.GroupSize}; a row whose width is not a multiple of the group size gets a last group padded with its zero point.");
        if (options.CalibrationSamples < 1)
            throw new ArgumentOutOfRangeException(nameof(Options.CalibrationSamples), options.CalibrationSamples, $"CalibrationSamples must be at least 1, but is {options.CalibrationSamples}.");
        if (options.OutlierFraction is <= 0 or >= 0.5 || double.IsNaN(options.OutlierFraction))
            throw new ArgumentOutOfRangeException(nameof(Options.OutlierFraction), options.OutlierFraction, $"OutlierFraction must be in (0, 0.5), but is {options.OutlierFraction}.");
        if (options.FlexRoundIterations < 1)
            throw new ArgumentOutOfRangeException(nameof(Options.FlexRoundIterations), options.FlexRoundIterations, $"FlexRoundIterations must be at least 1, but is {options.FlexRoundIterations}.");
        if (!(options.FlexRoundLearningRate > 0) || double.IsInfinity(options.FlexRoundLearningRate))
            throw new ArgumentOutOfRangeException(nameof(Options.FlexRoundLearningRate), options.FlexRoundLearningRate, $"FlexRoundLearningRate must be positive, but is {options.FlexRoundLearningRate}.");
        if (options.TargetModules is null || options.TargetModules.Length == 0 || options.TargetModules.Any(t => t is not ("query" or "key" or "value" or "dense")))
            throw new ArgumentException($"TargetModules must name Linears of a BERT layer (query, key, value, dense), but is [{string.Join(", ", options.TargetModules ?? [])}].", nameof(Options.TargetModules));
        if (options.QuantizeHead && model.Scorer.Settings.Head is null)
            throw new ArgumentException("QuantizeHead is set, but the model has no head: an embedding model outputs the pooled vector.", nameof(Options.QuantizeHead));
        _model = model;
        _options = options;
    }

    private TextScorerSettings Model => _model.Scorer.Settings;

    private protected override InputColumns InputColumns
    {
        get
        {
            var columns = new InputColumns().Add("text", "InputColumnName", Model.InputColumnName, ColumnTypes.Text, "Text");
            return Model.PairColumnName is { } pair ? columns.Add("second text", "SecondTextColumnName", pair, ColumnTypes.Text, "Text") : columns;
        }
    }

    private protected override IReadOnlyList<PredictionColumn> OutputColumns => _model.Scorer.Outputs;

    private protected override (ComputeDevice Device, int? Seed) Runtime => (_options.Device, _options.Seed);

    private protected override QuantizedTextTransformer FitCore(IDataView input, TrainingContext context)
    {
        var o = _options;
        var clock = Stopwatch.StartNew();
        var calibration = ReadTexts(input, o.CalibrationSamples, context.CancellationToken);
        var scorer = _model.Scorer;
        var settings = new LayerQuantizerSettings(o.Method, new QuantizerSettings(o.Bits, o.GroupSize, o.Symmetric), o.OutlierFraction, o.FlexRoundIterations, o.FlexRoundLearningRate);
        var (checkpoint, layers, tokens) = WeightQuantizer.Run(scorer.Checkpoint, scorer.Tokenizer, Model, calibration, o.TargetModules, o.QuantizeHead, settings, context);
        if (o.Int8Compute || o.DequantizeAtLoad)
            checkpoint = checkpoint with
            {
                Quantized = checkpoint.Quantized!.ToDictionary(p => p.Key, p => p.Value with { AccuracyLevel = o.Int8Compute ? 4 : 0, DequantizeAtLoad = o.DequantizeAtLoad }),
            };

        long before = layers.Sum(l => l.BytesBefore), after = layers.Sum(l => l.BytesAfter);
        long modelBefore = 4 * (checkpoint.Tensors.Values.Sum(t => (long)t.Values.Length) + (Model.Head is { } h ? h.Weight.Length + h.Bias.Length : 0));
        var report = new WeightQuantizationReport(o.Method, o.Bits, o.GroupSize, layers, before, after, modelBefore, modelBefore - before + after,
            8.0 * after / (before / 4.0), calibration.Fit, calibration.Texts.Count - calibration.Fit, tokens, clock.Elapsed.TotalSeconds);
        var worst = layers.MaxBy(l => l.RelativeError)!;
        context.Info($"Quantized {layers.Count} Linears with {o.Method} at {o.Bits} bits, group {o.GroupSize}: {before / 1e6:F1} MB -> {after / 1e6:F1} MB " +
            $"({report.BitsPerWeight:F2} bits per weight); largest relative output error {worst.RelativeError:F4} ({worst.Layer}).");
        var quantizedSettings = Model with { TorchDevice = null };
        return new QuantizedTextTransformer(new TextScorer(MLContext, checkpoint, scorer.Tokenizer, quantizedSettings, input.Schema), report);
    }

    private CalibrationTexts ReadTexts(IDataView input, int samples, CancellationToken cancellationToken)
    {
        int wanted = samples + (samples + 3) / 4;
        var texts = new List<string>();
        var pairs = Model.PairColumnName is null ? null : new List<string>();
        var textColumn = input.Schema[Model.InputColumnName];
        var pairColumn = Model.PairColumnName is { } p ? input.Schema[p] : (DataViewSchema.Column?)null;
        using var cursor = input.GetRowCursor(pairColumn is { } pc ? [textColumn, pc] : [textColumn]);
        var text = cursor.GetGetter<ReadOnlyMemory<char>>(textColumn);
        var pair = pairColumn is { } c ? cursor.GetGetter<ReadOnlyMemory<char>>(c) : null;
        ReadOnlyMemory<char> value = default;
        while (texts.Count < wanted && cursor.MoveNext())
        {
            cancellationToken.ThrowIfCancellationRequested();
            text(ref value);
            texts.Add(value.ToString());
            if (pair is not null)
            {
                pair(ref value);
                pairs!.Add(value.ToString());
            }
        }
        if (texts.Count == 0) throw new ArgumentException("The calibration data has no rows.", nameof(input));
        if (texts.All(t => t.Length == 0) && (pairs is null || pairs.All(t => t.Length == 0)))
            throw new ArgumentException($"Every calibration text of column '{Model.InputColumnName}' is empty: there are no activations to calibrate on.", nameof(input));
        return new CalibrationTexts(texts, pairs, Math.Min(samples, texts.Count));
    }
}
