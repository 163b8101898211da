using Microsoft.ML.PaperExtensions.Data;
using Microsoft.ML.PaperExtensions.Onnx;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.SearchSpace;

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
public sealed class FlexibleSurvivalTrainer : PaperTrainerBase<FlexibleSurvivalTransformer>
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

    private readonly Options _options;

    internal FlexibleSurvivalTrainer(MLContext mlContext, Options options) : base(mlContext)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckOptions(options);
        _options = options;
    }

    private protected override InputColumns InputColumns =>
        SurvivalTrainingData.Inputs(Outcome(_options), _options.AftFeatureColumnNames, _options.PhFeatureColumnNames, _options.ShapeFeatureColumnNames);

    private protected override IReadOnlyList<PredictionColumn> OutputColumns => FlexibleSurvivalTransformer.Outputs(_options.Times.Length > 0, _options.Quantiles.Length > 0);

    private protected override (ComputeDevice Device, int? Seed) Runtime => (_options.Device, null);

    private protected override FlexibleSurvivalTransformer FitCore(IDataView input, TrainingContext context)
    {
        CheckOptions(_options);
        var settings = new SurvivalSettings
        {
            Outcome = Outcome(_options),
            AftFeatures = [.. _options.AftFeatureColumnNames],
            PhFeatures = [.. _options.PhFeatureColumnNames],
            ShapeFeatures = [.. _options.ShapeFeatureColumnNames],
            Kappa = _options.Kappa,
            GompertzLimit = _options.GompertzLimit,
            FixLambdaAtOne = _options.FixLambdaAtOne,
            Times = [.. _options.Times],
            Quantiles = [.. _options.Quantiles],
            MaximumNumberOfIterations = _options.MaximumNumberOfIterations,
        };
        var data = SurvivalTrainingData.Read(input, settings, context.CancellationToken);
        FlexibleSurvivalModel model;
        using (context.Threads((long)data.RowCount * (data.AftNames.Length + data.PhNames.Length + data.ShapeNames.Length + 4)))
        {
            model = new FlexibleSurvivalFitter(data, settings, context.Monitor, context.Device).Fit();
        }
        foreach (var warning in model.Warnings) context.Warning(warning);
        return new FlexibleSurvivalTransformer(context.MLContext, model, input.Schema, settings);
    }

    private static SurvivalOutcome.Columns Outcome(Options o) =>
        new(o.TimeColumnName, o.EventColumnName, o.EventValue, o.EntryTimeColumnName, o.ExampleWeightColumnName);

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
        foreach (var (option, names) in new[] { (nameof(Options.AftFeatureColumnNames), o.AftFeatureColumnNames), (nameof(Options.PhFeatureColumnNames), o.PhFeatureColumnNames), (nameof(Options.ShapeFeatureColumnNames), o.ShapeFeatureColumnNames) })
        {
            if (names.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1) is { } twice)
                throw new ArgumentException($"{option} names column '{twice.Key}' twice; its two coefficients would not be identified.", option);
        }
        if (o.AftFeatureColumnNames.Length + o.PhFeatureColumnNames.Length + o.ShapeFeatureColumnNames.Length == 0)
            throw new ArgumentException("Name at least one covariate column (PhFeatureColumnNames, AftFeatureColumnNames or ShapeFeatureColumnNames): the prediction graph reads the covariates. " +
                "For a covariate-free survival curve use KaplanMeier.Fit.", nameof(Options.PhFeatureColumnNames));
        if (o.MaximumNumberOfIterations < 1)
            throw new ArgumentOutOfRangeException(nameof(Options.MaximumNumberOfIterations), o.MaximumNumberOfIterations, "MaximumNumberOfIterations must be at least 1.");
    }
}
