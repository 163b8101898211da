using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Onnx;
using Onnx;
using static Microsoft.ML.PaperExtensions.Onnx.OnnxGraphBuilder;

namespace Microsoft.ML.PaperExtensions.SemiSupervised;

/// <summary>
/// A fitted label-spreading classifier as an ML.NET transformer. A new row is predicted as scikit-learn's
/// <c>LabelSpreading.predict_proba</c> does: kNN graph, the normalised sum of the label distributions of its k nearest
/// training rows; RBF, the kernel-weighted sum of all training rows' distributions, normalised. It runs as one ONNX graph
/// (float64 distances) that holds the training rows.
/// </summary>
/// <remarks>
/// <para>Input: the feature column it was fitted on (Single or Double, scalar or known-size vector).</para>
/// <para>Output columns:</para>
/// <list type="table">
/// <item><term>Score</term><description>Vector of K Single class probabilities, in <see cref="LabelSpreadingModel.ClassNames"/> order;
/// NaN when the row cannot be scored (a NaN feature, or neighbours that no label reached).</description></item>
/// <item><term>PredictedLabel</term><description>Key column (key values = class names): the most probable class; the missing key (0)
/// for a row that cannot be scored, and for a row whose confidence is below <see cref="LabelSpreadingModel.UnknownThreshold"/>.</description></item>
/// <item><term>KnownClassConfidence</term><description>Single in [1/K, 1]: the largest class probability; 0 when no label reaches the
/// row's neighbours, NaN for a NaN feature. Low values flag rows that look like no known class.</description></item>
/// </list>
/// <para>Size: the graph stores the training rows (n x p doubles) and their distributions (n x K doubles); each prediction costs
/// O(n p).</para>
/// </remarks>
public sealed class LabelSpreadingTransformer : OnnxBackedTransformer
{
    internal LabelSpreadingTransformer(MLContext mlContext, LabelSpreadingModel model, DataViewSchema inputSchema, string featureColumnName)
        : base(mlContext, BuildGraph(model, featureColumnName, inputSchema[featureColumnName].Type), inputSchema, Outputs, model.ClassNames)
    {
        Model = model;
        FeatureColumnName = featureColumnName;
    }

    /// <summary>The fitted model.</summary>
    public LabelSpreadingModel Model { get; }

    /// <summary>The feature column the model reads.</summary>
    public string FeatureColumnName { get; }

    /// <summary>The columns a label-spreading model adds.</summary>
    internal static IReadOnlyList<PredictionColumn> Outputs =>
        [PredictionColumn.Vector(ColumnNames.Score), PredictionColumn.Key(ColumnNames.PredictedLabel), PredictionColumn.Scalar(SemiSupervisedTransformer.KnownClassConfidenceColumnName)];

    private static ModelProto BuildGraph(LabelSpreadingModel model, string featureColumn, DataViewType featureType)
    {
        var g = new OnnxGraphBuilder("label_spreading");
        ModelDetails.Write(g, nameof(LabelSpreadingModel), model.ToDetails());
        var p = model.FeatureCount;
        var n = model.TrainingRowCount;
        var k = model.ClassNames.Count;
        var x = g.AddColumnInput(featureColumn, featureType, OnnxElementType.Double);
        var scaled = g.AddNode("Div", [g.AddNode("Sub", [x, g.AddInitializer("feature_mean", model.Mean, p)]), g.AddInitializer("feature_sd", model.Sd, p)]);
        // NaN when any feature is NaN, else 0: added to the scores so that such a row cannot be scored.
        var nanProbe = NeighborVoteGraph.NanProbe(g, scaled);
        var distances = NeighborVoteGraph.SquaredDistances(g, "training", scaled, model.TrainingFeatures, n, p);
        var distributions = g.AddInitializer("training_distributions", model.Distributions, n, k);
        var sums = model.Kernel == LabelSpreadingKernel.Knn
            ? NeighborVoteGraph.NearestVotes(g, "neighbours", distances, distributions, model.NumberOfNeighbors)
            : g.AddNode("MatMul", [g.AddNode("Exp", [g.AddNode("Mul", [g.AddNode("Max", [distances, g.Const(0)]), g.Const(-model.Gamma)])]), distributions]);
        var total = g.AddNode("ReduceSum", [sums, g.AddInitializer("axis_k", [1L], 1)], null, Attribute("keepdims", 1L));
        // 0 / 0 = NaN when no label reaches the row's neighbours (scikit-learn divides the same way).
        var probabilities = g.AddNode("Add", [g.AddNode("Div", [sums, total]), nanProbe]);
        var score = g.CastToFloat(probabilities, ColumnNames.Score);
        var top = g.AddNode("ReduceMax", [score], null, Attribute("axes", [1L]), Attribute("keepdims", 0L));
        var reached = g.AddNode("Where", [g.AddNode("IsNaN", [top]), g.AddInitializer("zero_f", [0f], 1), top]);
        var confidence = g.AddNode("Add", [reached, g.CastToFloat(g.AddNode("Reshape", [nanProbe, g.AddInitializer("flat", [-1L], 1)]))],
            model.UnknownThreshold is null ? SemiSupervisedTransformer.KnownClassConfidenceColumnName : null);
        if (model.UnknownThreshold is { } threshold)
        {
            var index = g.PredictedIndex(score, g.NewName("index"));
            g.AddNode("Where", [g.AddNode("Less", [confidence, g.AddInitializer("unknown_threshold", [(float)threshold], 1)]), g.AddInitializer("missing_key", [0f], 1), index],
                ColumnNames.PredictedLabel);
            g.AddNode("Identity", [confidence], SemiSupervisedTransformer.KnownClassConfidenceColumnName);
        }
        else
        {
            g.PredictedIndex(score, ColumnNames.PredictedLabel);
        }
        foreach (var column in Outputs)
        {
            g.AddOutput(column, k);
        }
        return g.Build();
    }
}
