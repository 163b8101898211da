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
public sealed class ProportionalOddsTrainer : IEstimator<OrdinalTransformer>
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

        /// <summary>Which end class is the rare one (it fixes the internal order; the fit is the same either way).</summary>
        public RareClassPosition RareClass { get; set; } = RareClassPosition.Last;

        /// <summary>Where the tensor work runs.</summary>
        public ComputeDevice Device { get; set; } = ComputeDevice.Auto;
    }

    private readonly MLContext _mlContext;
    private readonly Options _options;

    internal ProportionalOddsTrainer(MLContext mlContext, Options options)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(options);
        _mlContext = mlContext;
        _options = options;
    }

    /// <summary>Fits the model.</summary>
    public OrdinalTransformer Fit(IDataView input) => Fit(input, CancellationToken.None);

    /// <summary>Fits the model, stopping when cancelled.</summary>
    public OrdinalTransformer Fit(IDataView input, CancellationToken cancellationToken, IProgress<TrainingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        var settings = new OrdinalFitSettings(true, 0, 1, 0.5, 2, 1, false, _options.RareClass, CrossingRepair.Clip, 0);
        return OrdinalTraining.Fit(_mlContext, input, _options.LabelColumnName, _options.FeatureColumnName, _options.ExampleWeightColumnName,
            _options.Device, settings, nameof(ProportionalOddsTrainer), progress, cancellationToken);
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) =>
        OrdinalTraining.OutputSchema(inputSchema, _options.LabelColumnName, _options.FeatureColumnName, _options.ExampleWeightColumnName);
}
