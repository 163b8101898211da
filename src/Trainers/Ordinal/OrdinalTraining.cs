using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;
using Microsoft.ML.PaperExtensions.Runtime;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Ordinal;

/// <summary>What both ordinal trainers share: schema checks and the fit inside a dispose scope.</summary>
internal static class OrdinalTraining
{

    public static OrdinalTransformer Fit(MLContext mlContext, IDataView input, string label, string features, string? weight, ComputeDevice device,
        OrdinalFitSettings settings, string componentName, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        OrdinalTrainingData.Validate(input.Schema, label, features, weight);
        var data = OrdinalTrainingData.Read(input, label, features, weight, settings.RareClass, cancellationToken);
        var torchDevice = TorchRuntime.ResolveDevice(device, mlContext);
        var monitor = new TrainingMonitor(mlContext, componentName, progress, cancellationToken);
        OrdinalModel model;
        using (TorchRuntime.ThreadsForWork((long)data.RowCount * (data.FeatureCount + 1) * (data.ClassCount - 1)))
        using (NewDisposeScope())
        {
            model = new OrdinalFitter(data, settings, monitor, torchDevice).Fit();
        }
        return new OrdinalTransformer(mlContext, model, input.Schema, features);
    }

    public static SchemaShape OutputSchema(SchemaShape input, string label, string features, string? weight)
    {
        SchemaShapes.RequireNumber(input, "feature", features);
        var labelColumn = SchemaShapes.Require(input, "label", label);
        if (labelColumn.Kind != SchemaShape.Column.VectorKind.Scalar || !(labelColumn.IsKey || labelColumn.ItemType is NumberDataViewType || labelColumn.ItemType is BooleanDataViewType))
        {
            throw SchemaShapes.Mismatch("label", labelColumn, "a key, numeric or Boolean scalar");
        }
        if (weight is not null)
        {
            SchemaShapes.RequireNumber(input, "example weight", weight, scalarOnly: true);
        }
        return OrdinalTransformer.OutputShape(input);
    }
}
