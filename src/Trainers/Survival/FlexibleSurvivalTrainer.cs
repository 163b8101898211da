using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.SearchSpace;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Survival;

/// <summary>
/// Flexible parametric survival regression on the APGW family (Burke, Jones and Noufaily, JRSS C 2020): covariates on
/// the PH scale lambda, the AFT scale phi and the power shape gamma (multi-parameter regression: effects that change
/// over time), with a free kappa that selects the baseline (Weibull at 1, Burr XII at 0, a cure fraction below 0).
/// </summary>
/// <remarks>
/// <para>Input columns: a time column (Single or Double, &gt; 0), an event column (Boolean, numeric 0/1, or a chosen
/// event value), optional entry times (left truncation) and example weights, and up to three covariate sets (scalar or
/// vector Single or Double columns).</para>
/// <para>Output columns: see <see cref="FlexibleSurvivalTransformer"/>.</para>
/// <list type="table">
/// <listheader><term>Trainer characteristics</term><description></description></listheader>
/// <item><term>Machine learning task</term><description>Survival regression with right censoring (and left truncation)</description></item>
/// <item><term>Is normalization required?</term><description>No: time and covariates are scaled internally; estimates are reported on the original scales.</description></item>
/// <item><term>Required NuGet in addition to Microsoft.ML</term><description>Microsoft.ML.PaperExtensions.Trainers, and a TorchSharp native package in the application.</description></item>
/// </list>
/// </remarks>
public sealed class FlexibleSurvivalTrainer : IEstimator<FlexibleSurvivalTransformer>
{
    /// <summary>Options of <see cref="FlexibleSurvivalTrainer"/>.</summary>
    public sealed class Options
    {
        /// <summary>Observed time (event or censoring), Single or Double, &gt; 0.</summary>
        public string TimeColumnName { get; set; } = "Time";

        /// <summary>Event indicator: Boolean, numeric 0/1, or numeric with <see cref="EventValue"/> meaning an event.</summary>
        public string EventColumnName { get; set; } = "Event";

        /// <summary>The event column's value that means an event (every other value is censored); null for 0/1 or Boolean.</summary>
        public double? EventValue { get; set; }

        /// <summary>Optional entry time (delayed entry, left truncation), &gt;= 0 and below the time; 0 means no truncation.</summary>
        public string? EntryTimeColumnName { get; set; }

        /// <summary>Optional non-negative example weights (they multiply each row's log-likelihood).</summary>
        public string? ExampleWeightColumnName { get; set; }

        /// <summary>Covariates on the PH scale lambda (hazard ratios).</summary>
        public string[] PhFeatureColumnNames { get; set; } = [];

        /// <summary>Covariates on the AFT scale phi (time ratios).</summary>
        public string[] AftFeatureColumnNames { get; set; } = [];

        /// <summary>Covariates on the power shape gamma (effects that change over time).</summary>
        public string[] ShapeFeatureColumnNames { get; set; } = [];

        /// <summary>kappa fixed at this value (1 = Weibull, 0 = Burr XII); null estimates it.</summary>
        public double? Kappa { get; set; }

        /// <summary>The Gompertz limit (kappa = +infinity, gamma = 1).</summary>
        public bool GompertzLimit { get; set; }

        /// <summary>lambda fixed at 1 (with kappa = 0 and features on phi: the log-logistic AFT model).</summary>
        public bool FixLambdaAtOne { get; set; }

        /// <summary>Times at which <c>SurvivalProbability</c>, <c>Hazard</c> and <c>CumulativeHazard</c> are predicted.</summary>
        public double[] Times { get; set; } = [];

        /// <summary>Probabilities p whose survival-time quantiles go to <c>SurvivalQuantiles</c> (the median is always predicted).</summary>
        public double[] Quantiles { get; set; } = [];

        /// <summary>The most Newton iterations per start.</summary>
        [Range(20, 1000, 200, true)]
        public int MaximumNumberOfIterations { get; set; } = 200;

        /// <summary>Where the tensor work runs.</summary>
        public ComputeDevice Device { get; set; } = ComputeDevice.Auto;
    }

    private readonly MLContext _mlContext;
    private readonly Options _options;

    internal FlexibleSurvivalTrainer(MLContext mlContext, Options options)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(options);
        CheckOptions(options);
        _mlContext = mlContext;
        _options = options;
    }

    /// <summary>Fits the model.</summary>
    public FlexibleSurvivalTransformer Fit(IDataView input) => Fit(input, CancellationToken.None);

    /// <summary>Fits the model, reporting progress and stopping when cancelled.</summary>
    public FlexibleSurvivalTransformer Fit(IDataView input, CancellationToken cancellationToken, IProgress<TrainingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        SurvivalTrainingData.Validate(input.Schema, _options);
        var data = SurvivalTrainingData.Read(input, _options, cancellationToken);
        var device = TorchRuntime.ResolveDevice(_options.Device, _mlContext);
        var monitor = new TrainingMonitor(_mlContext, nameof(FlexibleSurvivalTrainer), progress, cancellationToken);
        FlexibleSurvivalModel model;
        using (TorchRuntime.ThreadsForWork((long)data.RowCount * (data.AftNames.Length + data.PhNames.Length + data.ShapeNames.Length + 4)))
        using (NewDisposeScope())
        {
            model = new FlexibleSurvivalFitter(data, _options, monitor, device).Fit();
        }
        return new FlexibleSurvivalTransformer(_mlContext, model, input.Schema, _options);
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        SchemaShapes.RequireNumber(inputSchema, "time", _options.TimeColumnName, scalarOnly: true);
        var eventColumn = SchemaShapes.Require(inputSchema, "event", _options.EventColumnName);
        if (eventColumn.Kind != SchemaShape.Column.VectorKind.Scalar || !(eventColumn.ItemType is BooleanDataViewType || eventColumn.ItemType is NumberDataViewType))
        {
            throw SchemaShapes.Mismatch("event", eventColumn, "a Boolean or numeric scalar");
        }
        if (_options.EntryTimeColumnName is { } entry) SchemaShapes.RequireNumber(inputSchema, "entry time", entry, scalarOnly: true);
        if (_options.ExampleWeightColumnName is { } weight) SchemaShapes.RequireNumber(inputSchema, "example weight", weight, scalarOnly: true);
        foreach (var (role, names) in new[] { ("AFT feature", _options.AftFeatureColumnNames), ("PH feature", _options.PhFeatureColumnNames), ("shape feature", _options.ShapeFeatureColumnNames) })
        {
            foreach (var name in names) SchemaShapes.RequireNumber(inputSchema, role, name, scalarOnly: false);
        }
        return FlexibleSurvivalTransformer.OutputShape(inputSchema, _options);
    }

    private static void CheckOptions(Options o)
    {
        if (o.Kappa is { } kappa && !(kappa > -1 && double.IsFinite(kappa)))
            throw new ArgumentOutOfRangeException(nameof(Options.Kappa), kappa, $"Kappa must be a finite number greater than -1, but is {kappa}.");
        if (o.GompertzLimit && o.Kappa is not null)
            throw new ArgumentException("Kappa and GompertzLimit exclude each other (the Gompertz limit is kappa = +infinity).", nameof(Options.GompertzLimit));
        if (o.GompertzLimit && o.ShapeFeatureColumnNames.Length > 0)
            throw new ArgumentException("The Gompertz limit fixes gamma at 1, so ShapeFeatureColumnNames must be empty.", nameof(Options.ShapeFeatureColumnNames));
        if (o.FixLambdaAtOne && o.PhFeatureColumnNames.Length > 0)
            throw new ArgumentException("FixLambdaAtOne removes the PH scale, so PhFeatureColumnNames must be empty.", nameof(Options.PhFeatureColumnNames));
        if (o.Times.Any(t => !(t > 0 && double.IsFinite(t))))
            throw new ArgumentOutOfRangeException(nameof(Options.Times), string.Join(", ", o.Times), "Times must be positive and finite.");
        if (o.Quantiles.Any(p => !(p > 0 && p < 1)))
            throw new ArgumentOutOfRangeException(nameof(Options.Quantiles), string.Join(", ", o.Quantiles), "Quantiles must lie in (0, 1).");
        if (o.MaximumNumberOfIterations < 1)
            throw new ArgumentOutOfRangeException(nameof(Options.MaximumNumberOfIterations), o.MaximumNumberOfIterations, "MaximumNumberOfIterations must be at least 1.");
    }
}
