using Microsoft.ML.PaperExtensions.Data;
using Microsoft.ML.PaperExtensions.Onnx;
using Microsoft.ML.PaperExtensions.Runtime;

namespace Microsoft.ML.PaperExtensions.Ordinal;

/// <summary>
/// The proportional-odds (cumulative logit) model by maximum likelihood: <c>P(Y &lt;= k | x) = sigmoid(alpha_k + x' beta)</c>,
/// one weight vector shared by all class boundaries. This is R's <c>MASS::polr</c> and <c>ordinal::clm</c> with the sign of
/// beta flipped (they write <c>zeta_k - x' b</c>). With two classes it is logistic regression.
/// </summary>
/// <remarks>
/// <para>Input and output columns as <see cref="PrestoTrainer"/>. Cumulative probabilities of this model never cross.</para>
/// </remarks>
public sealed class ProportionalOddsTrainer : PaperTrainerBase<OrdinalTransformer>
{
    /// <summary>Options of <see cref="ProportionalOddsTrainer"/>.</summary>
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

        /// <summary>Which end class is the rare one (it fixes the internal order; the fit is the same either way).</summary>
        public RareClassPosition RareClass { get; set; } = RareClassPosition.Last;

        /// <summary>Where the tensor work runs.</summary>
        public ComputeDevice Device { get; set; } = ComputeDevice.Auto;
    }

    private readonly Options _options;

    internal ProportionalOddsTrainer(MLContext mlContext, Options options) : base(mlContext)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    private protected override InputColumns InputColumns => OrdinalTraining.Inputs(_options.LabelColumnName, _options.FeatureColumnName, _options.ExampleWeightColumnName);

    private protected override IReadOnlyList<PredictionColumn> OutputColumns => OrdinalTransformer.Outputs;

    private protected override (ComputeDevice Device, int? Seed) Runtime => (_options.Device, null);

    private protected override OrdinalTransformer FitCore(IDataView input, TrainingContext context) => OrdinalTraining.Fit(input, new OrdinalSettings
    {
        LabelColumn = _options.LabelColumnName,
        FeatureColumn = _options.FeatureColumnName,
        WeightColumn = _options.ExampleWeightColumnName,
        ClassOrder = _options.ClassOrder,
        ProportionalOdds = true,
        Lambda = 0,
        RareClass = _options.RareClass,
    }, context);
}
