using Microsoft.ML.PaperExtensions.Data;
using Microsoft.ML.PaperExtensions.Onnx;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.SearchSpace;

namespace Microsoft.ML.PaperExtensions.Ordinal;

/// <summary>
/// PRESTO (Faletto and Bien, ICML 2023): an ordinal model for accurate probabilities of a rare end class. It fits one
/// weight vector per class boundary, <c>P(Y &lt;= k | x) = sigmoid(alpha_k + x' beta_k)</c>, and shrinks each vector towards its
/// neighbour with an L1 penalty on the differences, so the rare boundary borrows strength from the others: lambda = 0 is the
/// unrestricted non-parallel model, a large lambda is proportional odds.
/// </summary>
/// <remarks>
/// <para>Input columns: the label (a key column whose key order is the class order, or an ordered numeric or Boolean
/// column), the features (Single or Double, scalar or known-size vector), optionally example weights.</para>
/// <para>Output columns: see <see cref="OrdinalTransformer"/> (<c>Score</c>, <c>PredictedLabel</c>,
/// <c>RareClassProbability</c>, <c>CrossingRepaired</c>); ML.NET's multiclass evaluator and cross-validation run on them.</para>
/// <list type="table">
/// <listheader><term>Trainer characteristics</term><description></description></listheader>
/// <item><term>Machine learning task</term><description>Ordinal regression (ordered multiclass)</description></item>
/// <item><term>Is normalization required?</term><description>No: features are standardised internally and coefficients mapped back.</description></item>
/// <item><term>Is caching required?</term><description>No: the data are read once.</description></item>
/// <item><term>Required NuGet in addition to Microsoft.ML</term><description>Microsoft.ML.PaperExtensions.Trainers, and a TorchSharp native package (TorchSharp-cpu) in the application.</description></item>
/// </list>
/// <para>Fitting: features are centred and scaled to unit (weighted, population) standard deviation; the penalised
/// likelihood is minimised in float64 by proximal Newton (exact Hessian, coordinate descent with soft-thresholding) until the
/// KKT conditions hold to 1e-8; lambda is given, or chosen by K-fold cross-validation on the out-of-fold multi-class Brier
/// score over a log-spaced path from lambda_max down (the largest lambda at the minimum), then refitted on all rows.</para>
/// </remarks>
public sealed class PrestoTrainer : PaperTrainerBase<OrdinalTransformer>
{
    /// <summary>
    /// Options of <see cref="PrestoTrainer"/>. The <c>[Range]</c>, <c>[BooleanChoice]</c> attributes give the ranges an AutoML
    /// tuner searches; the values a fit accepts are wider and are checked when the trainer is created.
    /// </summary>
    public sealed class Options
    {
        /// <summary>The label column: a key column (key order = class order) or an ordered numeric or Boolean column.</summary>
        public string LabelColumnName { get; set; } = ColumnNames.Label;

        /// <summary>The feature column: Single or Double, scalar or known-size vector.</summary>
        public string FeatureColumnName { get; set; } = ColumnNames.Features;

        /// <summary>An optional column of non-negative example weights.</summary>
        public string? ExampleWeightColumnName { get; set; }

        /// <summary>
        /// The classes in order, lowest first, by name (key values, or numbers as text): for a label whose own order is not the
        /// class order. Null takes the key order (keys) or the numeric order (numbers); a key whose values are numbers out of
        /// order, or words of a known scale (low/medium/high, ...) out of order, is refused unless this is given.
        /// </summary>
        public string[]? ClassOrder { get; set; }

        /// <summary>The penalty strength; null chooses it by cross-validation over the lambda path.</summary>
        public double? Lambda { get; set; }

        /// <summary>Number of lambda values on the path (from lambda_max down).</summary>
        [Range(5, 100, 20, false)]
        public int NumberOfLambdas { get; set; } = 20;

        /// <summary>The smallest lambda on the path as a fraction of lambda_max.</summary>
        [Range(1e-4, 0.5, 0.01, true)]
        public double LambdaMinRatio { get; set; } = 0.01;

        /// <summary>Folds of the cross-validation that chooses lambda.</summary>
        public int NumberOfFolds { get; set; } = 5;

        /// <summary>Elastic-net mixing: 1 = lasso on the differences (PRESTO), 0 = ridge (PRESTO_L2).</summary>
        [Range(0.0, 1.0, 1.0, false)]
        public double ElasticNetMixing { get; set; } = 1;

        /// <summary>Whether the first weight vector is penalised too (towards 0), as in the authors' final code.</summary>
        [BooleanChoice(true)]
        public bool PenalizeFirstVector { get; set; } = true;

        /// <summary>Which end class is the rare one.</summary>
        public RareClassPosition RareClass { get; set; } = RareClassPosition.Last;

        /// <summary>What prediction does when a row's cumulative probabilities cross.</summary>
        public CrossingRepair CrossingRepair { get; set; } = CrossingRepair.Isotonic;

        /// <summary>Seed of the fold assignment; null draws it from the MLContext.</summary>
        public int? Seed { get; set; }

        /// <summary>Where the tensor work runs.</summary>
        public ComputeDevice Device { get; set; } = ComputeDevice.Auto;
    }

    private readonly Options _options;

    internal PrestoTrainer(MLContext mlContext, Options options) : base(mlContext)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckOptions(options);
        _options = options;
    }

    private protected override InputColumns InputColumns => OrdinalTraining.Inputs(_options.LabelColumnName, _options.FeatureColumnName, _options.ExampleWeightColumnName);

    private protected override IReadOnlyList<PredictionColumn> OutputColumns => OrdinalTransformer.Outputs;

    private protected override (ComputeDevice Device, int? Seed) Runtime => (_options.Device, _options.Seed);

    private protected override OrdinalTransformer FitCore(IDataView input, TrainingContext context)
    {
        CheckOptions(_options);
        var settings = new OrdinalSettings
        {
            LabelColumn = _options.LabelColumnName,
            FeatureColumn = _options.FeatureColumnName,
            WeightColumn = _options.ExampleWeightColumnName,
            ClassOrder = _options.ClassOrder,
            Lambda = _options.Lambda,
            NumberOfLambdas = _options.NumberOfLambdas,
            LambdaMinRatio = _options.LambdaMinRatio,
            NumberOfFolds = _options.NumberOfFolds,
            Mixing = _options.ElasticNetMixing,
            PenalizeFirstVector = _options.PenalizeFirstVector,
            RareClass = _options.RareClass,
            CrossingRepair = _options.CrossingRepair,
            Seed = context.Seed,
        };
        return OrdinalTraining.Fit(input, settings, context);
    }

    private static void CheckOptions(Options o)
    {
        if (o.Lambda is { } lambda && !(lambda >= 0 && double.IsFinite(lambda)))
            throw new ArgumentOutOfRangeException(nameof(Options.Lambda), lambda, $"Lambda must be a finite number >= 0, but is {lambda}.");
        if (o.Lambda is null && o.NumberOfLambdas < 2)
            throw new ArgumentOutOfRangeException(nameof(Options.NumberOfLambdas), o.NumberOfLambdas,
                $"NumberOfLambdas must be at least 2 when lambda is chosen by cross-validation (a path of one value is lambda_max, whose model has intercepts only), but is {o.NumberOfLambdas}.");
        if (!(o.LambdaMinRatio > 0 && o.LambdaMinRatio < 1))
            throw new ArgumentOutOfRangeException(nameof(Options.LambdaMinRatio), o.LambdaMinRatio, $"LambdaMinRatio must lie in (0, 1), but is {o.LambdaMinRatio}.");
        if (o.NumberOfFolds < 2)
            throw new ArgumentOutOfRangeException(nameof(Options.NumberOfFolds), o.NumberOfFolds, $"NumberOfFolds must be at least 2, but is {o.NumberOfFolds}.");
        if (!(o.ElasticNetMixing >= 0 && o.ElasticNetMixing <= 1))
            throw new ArgumentOutOfRangeException(nameof(Options.ElasticNetMixing), o.ElasticNetMixing, $"ElasticNetMixing must lie in [0, 1], but is {o.ElasticNetMixing}.");
    }
}
