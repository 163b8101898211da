using Microsoft.ML.PaperExtensions.Data;
using Microsoft.ML.PaperExtensions.Onnx;
using Microsoft.ML.PaperExtensions.Runtime;

namespace Microsoft.ML.PaperExtensions.Ordinal;

/// <summary>What an ordinal fit does, mapped once from a trainer's options.</summary>
internal sealed record OrdinalSettings
{
    public required string LabelColumn { get; init; }

    public required string FeatureColumn { get; init; }

    /// <summary>The class names in order, when the label's own order is not the class order.</summary>
    public IReadOnlyList<string>? ClassOrder { get; init; }

    public string? WeightColumn { get; init; }

    /// <summary>Proportional odds (every difference fixed at 0) instead of PRESTO.</summary>
    public bool ProportionalOdds { get; init; }

    /// <summary>The penalty strength; null chooses it by cross-validation.</summary>
    public double? Lambda { get; init; }

    public int NumberOfLambdas { get; init; } = 1;

    public double LambdaMinRatio { get; init; } = 0.5;

    public int NumberOfFolds { get; init; } = 2;

    /// <summary>Elastic-net mixing: 1 = lasso on the differences.</summary>
    public double Mixing { get; init; } = 1;

    public bool PenalizeFirstVector { get; init; }

    public RareClassPosition RareClass { get; init; }

    public CrossingRepair CrossingRepair { get; init; } = CrossingRepair.Clip;

    /// <summary>The seed of the cross-validation folds.</summary>
    public int Seed { get; init; }
}

/// <summary>What both ordinal trainers share: their columns, and the fit from settings.</summary>
internal static class OrdinalTraining
{
    public static InputColumns Inputs(string label, string features, string? weight) => new InputColumns()
        .Add("label", "LabelColumnName", label, ColumnTypes.Key | ColumnTypes.Number | ColumnTypes.Boolean)
        .Features("FeatureColumnName", [features])
        .Weight("ExampleWeightColumnName", weight);

    public static OrdinalTransformer Fit(IDataView input, OrdinalSettings settings, TrainingContext context)
    {
        var data = OrdinalTrainingData.Read(input, settings.LabelColumn, settings.FeatureColumn, settings.WeightColumn, settings.RareClass, settings.ClassOrder, context.CancellationToken);
        OrdinalModel model;
        using (context.Threads((long)data.RowCount * (data.FeatureCount + 1) * (data.ClassCount - 1)))
        {
            model = new OrdinalFitter(data, settings, context.Monitor, context.Device).Fit();
        }
        if (!model.Converged)
        {
            context.Warning($"The fit did not converge: the largest KKT violation is {model.KktViolation:G3} after {model.Iterations} proximal Newton iterations; the coefficients are unreliable.");
        }
        return new OrdinalTransformer(context.MLContext, model, input.Schema, settings.FeatureColumn);
    }
}
