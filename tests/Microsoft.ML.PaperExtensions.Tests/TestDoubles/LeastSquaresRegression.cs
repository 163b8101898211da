using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;
using Microsoft.ML.PaperExtensions.Onnx;
using Microsoft.ML.PaperExtensions.Runtime;
using Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Tests.TestDoubles;

/// <summary>
/// A small but real estimator on the foundation: reads features with <see cref="DataViewReader"/>, solves least squares
/// in float64 with TorchSharp, and predicts through an ONNX graph (<see cref="OnnxBackedTransformer"/>).
/// Outputs a float <c>Score</c> and a key-typed <c>PredictedLabel</c> ("low" / "high": score below or above the label mean).
/// </summary>
internal sealed class LeastSquaresEstimator(MLContext mlContext, string labelColumnName, params string[] featureColumnNames) : IEstimator<LeastSquaresTransformer>
{
    public LeastSquaresTransformer Fit(IDataView input)
    {
        Columns.Check(input.Schema);
        var data = DataViewReader.Read(input, new DataViewReader.Request(featureColumnNames, labelColumnName));
        TorchRuntime.EnsureInitialized();
        using var scope = NewDisposeScope();
        var x = cat([data.FeatureTensor(), ones(data.RowCount, 1, ScalarType.Float64)], 1);
        var y = data.LabelTensor().unsqueeze(1);
        var solution = linalg.lstsq(x, y).Solution.squeeze(1).data<double>().ToArray();
        var threshold = data.Label!.Average();
        return new LeastSquaresTransformer(mlContext, input.Schema, data.FeatureSlots, solution[..^1], solution[^1], threshold);
    }

    private InputColumns Columns => new InputColumns().Features("featureColumnNames", featureColumnNames).Add("label", "labelColumnName", labelColumnName, ColumnTypes.Number);

    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        Columns.Check(inputSchema);
        return SchemaShapes.With(inputSchema, LeastSquaresTransformer.Outputs.Select(c => c.Shape()).ToArray());
    }
}

internal sealed class LeastSquaresTransformer : OnnxBackedTransformer
{
    internal LeastSquaresTransformer(MLContext mlContext, DataViewSchema schema, IReadOnlyList<FeatureSlot> slots, double[] weights, double bias, double threshold)
        : base(mlContext, BuildGraph(schema, slots, weights, bias, threshold), schema, Outputs, ["low", "high"])
    {
        Weights = weights;
        Bias = bias;
    }

    internal static readonly IReadOnlyList<PredictionColumn> Outputs = [PredictionColumn.Scalar("Score"), PredictionColumn.Key("PredictedLabel")];

    public double[] Weights { get; }

    public double Bias { get; }

    private static ModelProto BuildGraph(DataViewSchema schema, IReadOnlyList<FeatureSlot> slots, double[] weights, double bias, double threshold)
    {
        var g = new OnnxGraphBuilder("least_squares");
        var parts = slots.Select(slot => g.AddColumnInput(slot.ColumnName, schema[slot.ColumnName].Type, OnnxElementType.Double)).ToList();
        var x = parts.Count == 1 ? parts[0] : g.AddNode("Concat", parts, null, OnnxGraphBuilder.Attribute("axis", 1L));
        var w = g.AddInitializer("weights", weights, weights.Length, 1);
        var b = g.AddInitializer("bias", [bias], 1);
        var score64 = g.AddNode("Add", [g.AddNode("MatMul", [x, w]), b]);
        var flat = g.AddNode("Reshape", [score64, g.AddInitializer("flat", [-1L], 1)]);
        g.AddNode("Cast", [flat], "Score", OnnxGraphBuilder.Attribute("to", (long)OnnxElementType.Float));
        var above = g.AddNode("Greater", [flat, g.AddInitializer("threshold", [threshold], 1)]);
        var index = g.AddNode("Cast", [above], null, OnnxGraphBuilder.Attribute("to", (long)OnnxElementType.UInt32));
        g.AddNode("Add", [index, g.AddInitializer("one", [1u], 1)], "PredictedLabel");
        g.AddOutput("Score", OnnxElementType.Float, OnnxGraphBuilder.Batch);
        g.AddOutput("PredictedLabel", OnnxElementType.UInt32, OnnxGraphBuilder.Batch);
        return g.Build();
    }

}
