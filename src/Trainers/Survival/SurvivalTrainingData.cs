using Microsoft.ML.PaperExtensions.Data;

namespace Microsoft.ML.PaperExtensions.Survival;

/// <summary>What a flexible survival fit does, mapped once from the trainer's options.</summary>
internal sealed record SurvivalSettings
{
    public required SurvivalOutcome.Columns Outcome { get; init; }

    public required string[] AftFeatures { get; init; }

    public required string[] PhFeatures { get; init; }

    public required string[] ShapeFeatures { get; init; }

    /// <summary>kappa fixed at this value; null estimates it.</summary>
    public double? Kappa { get; init; }

    public bool GompertzLimit { get; init; }

    public bool FixLambdaAtOne { get; init; }

    /// <summary>Prediction times of the survival, hazard and cumulative-hazard columns.</summary>
    public required double[] Times { get; init; }

    /// <summary>Quantile probabilities of the quantile column.</summary>
    public required double[] Quantiles { get; init; }

    public int MaximumNumberOfIterations { get; init; } = 200;
}

/// <summary>The columns a flexible survival fit reads, validated: the outcome (see <see cref="SurvivalOutcome"/>) and the covariates of each component.</summary>
internal sealed class SurvivalTrainingData
{
    public required SurvivalOutcome Outcome { get; set; }

    public double[] Time => Outcome.Time;

    public double[] Event => Outcome.Event;

    public double[] Entry => Outcome.Entry;

    public double[] Weight => Outcome.Weight;

    /// <summary>Covariates of each component, row-major [rows, width].</summary>
    public required CovariateMatrix Aft { get; set; }

    /// <inheritdoc cref="Aft"/>
    public required CovariateMatrix Ph { get; set; }

    /// <inheritdoc cref="Aft"/>
    public required CovariateMatrix Shape { get; set; }

    public string[] AftNames => Aft.Names;

    public string[] PhNames => Ph.Names;

    public string[] ShapeNames => Shape.Names;

    public int RowCount { get; private set; }

    /// <summary>
    /// Drops the per-row arrays once the fit holds them as tensors, so that a large fit does not keep the data twice; the
    /// names and the row count stay.
    /// </summary>
    public void ReleaseRows()
    {
        RowCount = Time.Length;
        Outcome = new SurvivalOutcome { Time = [], Event = [], Entry = [], Weight = [] };
        Aft = Aft with { Values = [] };
        Ph = Ph with { Values = [] };
        Shape = Shape with { Values = [] };
    }

    /// <summary>The columns a fit with these settings reads.</summary>
    public static InputColumns Inputs(SurvivalOutcome.Columns outcome, string[] aft, string[] ph, string[] shape) =>
        outcome.Declare(new InputColumns())
            .Features(nameof(FlexibleSurvivalTrainer.Options.AftFeatureColumnNames), aft, "AFT feature")
            .Features(nameof(FlexibleSurvivalTrainer.Options.PhFeatureColumnNames), ph, "PH feature")
            .Features(nameof(FlexibleSurvivalTrainer.Options.ShapeFeatureColumnNames), shape, "shape feature");

    public static SurvivalTrainingData Read(IDataView data, SurvivalSettings s, CancellationToken cancellation)
    {
        var outcome = SurvivalOutcome.Read(data, s.Outcome, cancellation);
        return new()
        {
            Outcome = outcome,
            RowCount = outcome.RowCount,
            Aft = Covariates(data, s.AftFeatures, "AFT feature", nameof(FlexibleSurvivalTrainer.Options.AftFeatureColumnNames), cancellation),
            Ph = Covariates(data, s.PhFeatures, "PH feature", nameof(FlexibleSurvivalTrainer.Options.PhFeatureColumnNames), cancellation),
            Shape = Covariates(data, s.ShapeFeatures, "shape feature", nameof(FlexibleSurvivalTrainer.Options.ShapeFeatureColumnNames), cancellation),
        };
    }

    /// <summary>Covariates as a row-major matrix, named "column" or "column[slot]" for vector columns.</summary>
    private static CovariateMatrix Covariates(IDataView data, string[] columns, string role, string option, CancellationToken cancellation)
    {
        if (columns.Length == 0) return new CovariateMatrix([], 0, []);
        var table = DataViewReader.Read(data, new DataViewReader.Request(columns, FeatureRole: role, FeatureOption: option), cancellation);
        var names = table.FeatureSlots.SelectMany(s => s.Width == 1 ? [s.ColumnName] : Enumerable.Range(0, s.Width).Select(k => $"{s.ColumnName}[{k}]")).ToArray();
        return new CovariateMatrix(table.Features, table.FeatureCount, names);
    }
}

/// <summary>A row-major covariate matrix with its column names.</summary>
internal sealed record CovariateMatrix(double[] Values, int Width, string[] Names)
{
    /// <summary>The covariates of one row (empty when the component has none).</summary>
    public ReadOnlySpan<double> Row(int row) => Values.AsSpan(row * Width, Width);
}
