using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;
using Microsoft.ML.PaperExtensions.Onnx;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.Text;
using Microsoft.ML.PaperExtensions.Text.Modules;
using Microsoft.ML.SearchSpace;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.FineTuning;

/// <summary>
/// Fine-tunes a pretrained BERT-family encoder (a Hugging Face folder or an ONNX export) with a Linear head on labelled texts:
/// low-rank adapters (LoRA, rsLoRA, DoRA, ALLoRA) or every weight (<see cref="FineTuningMethod.Full"/>).
/// </summary>
/// <remarks>
/// <para>Input columns: <see cref="Options.TextColumnName"/> (text), optionally <see cref="Options.SecondTextColumnName"/> (the second
/// text of sentence pairs), <see cref="Options.LabelColumnName"/>: a key or text for classification, Single or Double for
/// regression.</para>
/// <para>Output columns: classification: <c>Score</c> (<c>Vector&lt;Single, K&gt;</c>, class probabilities) and <c>PredictedLabel</c>
/// (key with the class names); regression: <c>Score</c> (Single). The merged encoder and head run as one ONNX graph; the
/// adapter can be saved alone in Hugging Face PEFT's format (<see cref="TextFineTuningTransformer.SaveAdapter"/>).</para>
/// </remarks>
public sealed class TextFineTuningTrainer : PaperTrainerBase<TextFineTuningTransformer>
{
    private readonly Options _options;
    private readonly bool _regression;

    /// <summary>Options of <see cref="TextFineTuningTrainer"/>; the defaults suit a few thousand short texts.</summary>
    public sealed class Options
    {
        /// <summary>The label: a key or text (classification) or Single/Double (regression).</summary>
        public string LabelColumnName { get; set; } = ColumnNames.Label;

        /// <summary>The text column.</summary>
        public string TextColumnName { get; set; } = "Text";

        /// <summary>The second text of sentence pairs (similarity, entailment); null for single texts.</summary>
        public string? SecondTextColumnName { get; set; }

        /// <summary>A Hugging Face folder, a folder with <c>model.onnx</c> and <c>vocab.txt</c>, or an <c>.onnx</c> file (see <see cref="PretrainedEncoder.Load"/>).</summary>
        public string ModelPath { get; set; } = "";

        /// <summary>The WordPiece <c>vocab.txt</c>, when it is not in the model's folder.</summary>
        public string? VocabularyPath { get; set; }

        /// <summary>LoRA (default), rsLoRA, DoRA, ALLoRA, or Full (every weight trains).</summary>
        public FineTuningMethod Method { get; set; } = FineTuningMethod.Lora;

        /// <summary>r, the rank of the adapters.</summary>
        [Range(2, 64, 8, true)]
        public int Rank { get; set; } = 8;

        /// <summary>LoRA's alpha (scale alpha / r, rsLoRA alpha / sqrt r); ALLoRA ignores it.</summary>
        [Range(1.0, 64.0, 16.0, true)]
        public double Alpha { get; set; } = 16;

        /// <summary>Dropout on the adapters' input in training (ALLoRA has none).</summary>
        [Range(0.0, 0.3, 0.1, false)]
        public double Dropout { get; set; } = 0.1;

        /// <summary>The Linears to adapt, by name: query, key, value, dense.</summary>
        public string[] TargetModules { get; set; } = ["query", "value"];

        /// <summary>ALLoRA's eta (largest gradient factor); the paper's default eta^2 = 4.</summary>
        public double Eta { get; set; } = 2;

        /// <summary>How token vectors become the head's input: their mean (default) or [CLS].</summary>
        public EmbeddingPooling Pooling { get; set; } = EmbeddingPooling.Mean;

        /// <summary>AdamW (default) or SGD with momentum 0.9.</summary>
        public FineTuningOptimizer Optimizer { get; set; } = FineTuningOptimizer.AdamW;

        /// <summary>Peak learning rate (reached after the warm-up). Full fine-tuning wants about 10x less than adapters.</summary>
        [Range(1e-5, 1e-2, 5e-4, true)]
        public double LearningRate { get; set; } = 5e-4;

        /// <summary>Weight decay of the trained parameters.</summary>
        public double WeightDecay { get; set; } = 0.01;

        /// <summary>Share of the steps over which the learning rate rises from 0; it then falls linearly to 0.</summary>
        public double WarmupFraction { get; set; } = 0.1;

        /// <summary>Largest L2 norm of the gradient; 0 turns clipping off.</summary>
        public double GradientClipping { get; set; } = 1.0;

        /// <summary>Texts per step.</summary>
        [Range(4, 64, 16, true)]
        public int BatchSize { get; set; } = 16;

        /// <summary>Passes over the training texts.</summary>
        [Range(1, 10, 1, false)]
        public int Epochs { get; set; } = 1;

        /// <summary>Tokens per text (or pair) including [CLS] and [SEP]; longer texts are cut. At most the model's positions and 512.</summary>
        public int MaxSequenceLength { get; set; } = 128;

        /// <summary>Dropout on the pooled vector before the head, in training.</summary>
        public double HeadDropout { get; set; } = 0.1;

        /// <summary>
        /// Rows to measure the loss on after each epoch (the same columns as the training data; classes by name): the epoch with the
        /// lowest validation loss is kept, and training stops after <see cref="EarlyStoppingPatience"/> epochs without improvement.
        /// </summary>
        public IDataView? ValidationSet { get; set; }

        /// <summary>Epochs without a better validation loss before training stops (with <see cref="ValidationSet"/>).</summary>
        public int EarlyStoppingPatience { get; set; } = 1;

        /// <summary>Texts per run when the fitted model scores in process.</summary>
        public int ScoringBatchSize { get; set; } = 32;

        /// <summary>Seed of adapter and head initialisation, batch order and dropout; null draws one from the MLContext.</summary>
        public int? Seed { get; set; }

        /// <summary>Where training runs: Auto (CUDA when libtorch has it), Cpu or Cuda.</summary>
        public ComputeDevice Device { get; set; } = ComputeDevice.Auto;
    }

    internal TextFineTuningTrainer(MLContext mlContext, Options options, bool regression) : base(mlContext)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ModelPath)) throw new ArgumentException("ModelPath must name a model folder or an .onnx file.", nameof(Options.ModelPath));
        Check(options.Rank >= 1, nameof(Options.Rank), options.Rank, "at least 1");
        Check(options.Alpha > 0, nameof(Options.Alpha), options.Alpha, "positive");
        Check(options.Dropout is >= 0 and < 1, nameof(Options.Dropout), options.Dropout, "in [0, 1)");
        Check(options.HeadDropout is >= 0 and < 1, nameof(Options.HeadDropout), options.HeadDropout, "in [0, 1)");
        Check(options.Eta > 0, nameof(Options.Eta), options.Eta, "positive");
        Check(options.LearningRate > 0 && double.IsFinite(options.LearningRate), nameof(Options.LearningRate), options.LearningRate, "positive");
        Check(options.WeightDecay >= 0, nameof(Options.WeightDecay), options.WeightDecay, "at least 0");
        Check(options.WarmupFraction is >= 0 and < 1, nameof(Options.WarmupFraction), options.WarmupFraction, "in [0, 1)");
        Check(options.GradientClipping >= 0, nameof(Options.GradientClipping), options.GradientClipping, "at least 0");
        Check(options.BatchSize >= 1, nameof(Options.BatchSize), options.BatchSize, "at least 1");
        Check(options.ScoringBatchSize >= 1, nameof(Options.ScoringBatchSize), options.ScoringBatchSize, "at least 1");
        Check(options.Epochs >= 1, nameof(Options.Epochs), options.Epochs, "at least 1");
        Check(options.EarlyStoppingPatience >= 1, nameof(Options.EarlyStoppingPatience), options.EarlyStoppingPatience, "at least 1");
        Check(options.MaxSequenceLength is >= 3 and <= WordPieceMapping.Slots, nameof(Options.MaxSequenceLength), options.MaxSequenceLength, $"between 3 and {WordPieceMapping.Slots}");
        _options = options;
        _regression = regression;
    }

    private static void Check(bool ok, string option, object value, string rule)
    {
        if (!ok) throw new ArgumentOutOfRangeException(option, value, $"{option} must be {rule}, but is {value}.");
    }

    private protected override InputColumns InputColumns
    {
        get
        {
            var columns = new InputColumns()
                .Add("text", nameof(Options.TextColumnName), _options.TextColumnName, ColumnTypes.Text, "Text")
                .Add("label", nameof(Options.LabelColumnName), _options.LabelColumnName,
                    _regression ? ColumnTypes.SingleOrDouble : ColumnTypes.Key | ColumnTypes.Text, _regression ? "Single or Double" : "a key or Text");
            return _options.SecondTextColumnName is { } second ? columns.Add("second text", nameof(Options.SecondTextColumnName), second, ColumnTypes.Text, "Text") : columns;
        }
    }

    private protected override IReadOnlyList<PredictionColumn> OutputColumns => _regression
        ? [PredictionColumn.Scalar(BertOnnxGraph.Score)]
        : [PredictionColumn.Vector(BertOnnxGraph.Score), PredictionColumn.Key(BertOnnxGraph.PredictedLabel)];

    private protected override (ComputeDevice Device, int? Seed) Runtime => (_options.Device, _options.Seed);

    private protected override TextFineTuningTransformer FitCore(IDataView input, TrainingContext context)
    {
        var o = _options;
        var data = FineTuningData.Read(input, o.TextColumnName, o.SecondTextColumnName, o.LabelColumnName, _regression, context.CancellationToken);
        FineTuningData? validation = null;
        if (o.ValidationSet is { } validationSet)
        {
            foreach (var rule in InputColumns.Rules.Where(r => validationSet.Schema.GetColumnOrNull(r.Name) is null))
                throw new ArgumentException($"The validation set has no {rule.Role} column '{rule.Name}'.", nameof(Options.ValidationSet));
            validation = FineTuningData.ReadValidation(validationSet, data, o.TextColumnName, o.SecondTextColumnName, o.LabelColumnName, _regression, context.CancellationToken);
        }
        var encoder = PretrainedEncoder.Load(o.ModelPath, o.VocabularyPath);
        if (o.MaxSequenceLength > encoder.Config.MaxPositionEmbeddings)
            throw new ArgumentOutOfRangeException(nameof(Options.MaxSequenceLength), o.MaxSequenceLength,
                $"MaxSequenceLength {o.MaxSequenceLength} exceeds the {encoder.Config.MaxPositionEmbeddings} positions of {encoder.Source}.");
        var adapterSettings = o.Method == FineTuningMethod.Full ? null
            : new AdapterSettings((AdapterKind)o.Method, o.Rank, o.Alpha, o.Method == FineTuningMethod.AlLora ? 0 : o.Dropout, o.Eta, o.TargetModules);
        var settings = new FineTuningSettings(adapterSettings, _regression ? 1 : data.ClassNames.Count, o.Pooling, o.Optimizer, o.LearningRate, o.WeightDecay,
            o.WarmupFraction, o.GradientClipping, o.BatchSize, o.Epochs, o.MaxSequenceLength, o.HeadDropout);

        var model = BertModel.FromCheckpoint(encoder.Checkpoint);
        var generator = new Generator((ulong)context.Seed + 2);
        var adapters = adapterSettings is null ? null : EncoderAdapters.Attach(model, adapterSettings, generator);
        var head = new TextHead(encoder.Config.HiddenSize, settings.Outputs, settings.Pooling, settings.HeadDropout, generator);
        var (mean, scale) = data.TargetScale;
        var result = FineTuner.Train(model, head, encoder.Tokenizer, data.Texts, data.Pairs, data.Targets, settings, context,
            validation is null ? null : new FineTuningExamples(validation.Texts, validation.Pairs, validation.Targets), o.EarlyStoppingPatience);
        context.Info($"Fine-tuned {o.Method} on {data.Texts.Count} texts: {result.Steps} steps in {result.Seconds:F1} s, loss by epoch {string.Join(", ", result.EpochLosses.Select(l => l.ToString("F4")))}.");

        model.to(CPU);
        head.to(CPU);
        var merged = adapters?.Merge(encoder.Checkpoint) ?? Snapshot(model, encoder.Checkpoint);
        var headWeights = HeadWeights(head, mean, scale);
        var scorer = new TextScorer(MLContext, merged, encoder.Tokenizer, new TextScorerSettings(o.TextColumnName, o.SecondTextColumnName, o.MaxSequenceLength,
            o.ScoringBatchSize, o.Pooling, Normalize: false, OutputColumnName: BertOnnxGraph.Score, headWeights, _regression ? null : data.ClassNames), input.Schema);
        var report = new FineTuningReport(o.Method, data.Texts.Count, _regression ? [] : data.ClassNames, result.EpochLosses, result.Steps, result.Seconds,
            result.TrainableParameters, result.TotalParameters, result.ValidationLosses, result.BestEpoch);
        return new TextFineTuningTransformer(scorer, report, adapters?.Snapshot(), headWeights, encoder.Source);
    }

    /// <summary>The whole encoder's current weights (full fine-tuning) as a checkpoint.</summary>
    private static EncoderCheckpoint Snapshot(BertModel model, EncoderCheckpoint original)
    {
        var tensors = new Dictionary<string, EncoderTensor>(original.Tensors, StringComparer.Ordinal);
        foreach (var (name, parameter) in model.named_parameters())
        {
            using var values = parameter.detach().to_type(ScalarType.Float32).contiguous();
            tensors[name] = new EncoderTensor(values.shape, values.data<float>().ToArray());
        }
        return original with { Tensors = tensors };
    }

    /// <summary>The head's weights for the graph; a regression head predicts the standardised label, so it is scaled back.</summary>
    private static TextHeadWeights HeadWeights(TextHead head, double mean, double scale)
    {
        var weight = head.Classifier.weight!.detach().data<float>().ToArray();
        var bias = head.Classifier.bias!.detach().data<float>().ToArray();
        if (bias.Length == 1)
        {
            for (int i = 0; i < weight.Length; i++) weight[i] = (float)(weight[i] * scale);
            bias[0] = (float)(bias[0] * scale + mean);
        }
        return new TextHeadWeights(weight, bias);
    }
}
