using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;
using Microsoft.ML.PaperExtensions.Onnx;
using Onnx;
using static Microsoft.ML.PaperExtensions.Onnx.OnnxGraphBuilder;

namespace Microsoft.ML.PaperExtensions.SemiSupervised;

/// <summary>
/// A fitted semi-supervised classifier (WAD or a baseline) as an ML.NET transformer. The feature standardisation, the MLP
/// student and the teacher's similarity to the anchors run as one ONNX graph; with an ML.NET trainer as the student, the
/// graph computes the standardised features and that trainer's own transformer predicts from them.
/// </summary>
/// <remarks>
/// <para>Input: the feature column it was fitted on (Single or Double, scalar or known-size vector).</para>
/// <para>Output columns:</para>
/// <list type="table">
/// <item><term>Score</term><description>Vector of K Single probabilities over the known classes, in <see cref="SemiSupervisedModel.ClassNames"/> order.</description></item>
/// <item><term>PredictedLabel</term><description>Key column (key values = class names): the most probable known class.</description></item>
/// <item><term>KnownClassSimilarity</term><description>
/// Single in [-1, 1]: the highest cosine similarity between the row's teacher embedding and any anchor (a labelled or
/// promoted training row). Low values flag rows that look like no known class. Only for methods with a teacher (WAD,
/// pseudo-labelling).</description></item>
/// </list>
/// </remarks>
public sealed class SemiSupervisedTransformer : OnnxBackedTransformer
{
    /// <summary>Name of the known-class similarity column.</summary>
    public const string KnownClassSimilarityColumnName = "KnownClassSimilarity";

    internal SemiSupervisedTransformer(MLContext mlContext, SemiSupervisedModel model, DataViewSchema inputSchema, string featureColumnName)
        : base(mlContext, BuildGraph(model, featureColumnName, inputSchema[featureColumnName].Type), inputSchema,
            model.Student is null ? null : new Dictionary<string, IReadOnlyList<string>> { [ColumnNames.PredictedLabel] = model.ClassNames },
            followers: model.StudentTransformer is { } student ? [student] : null,
            dropAfterFollowers: model.StudentTransformer is null ? null : [MlNetStudent.FeatureColumn])
    {
        Model = model;
        FeatureColumnName = featureColumnName;
    }

    /// <summary>The fitted model: classes, rounds, what happened to each unlabelled row.</summary>
    public SemiSupervisedModel Model { get; }

    /// <summary>The feature column the model reads.</summary>
    public string FeatureColumnName { get; }

    /// <summary>The output columns a semi-supervised estimator adds.</summary>
    internal static SchemaShape OutputShape(SchemaShape input, bool hasTeacher)
    {
        var columns = new List<SchemaShape.Column>
        {
            SchemaShapes.Vector(ColumnNames.Score, NumberDataViewType.Single),
            SchemaShapes.Key(ColumnNames.PredictedLabel),
        };
        if (hasTeacher) columns.Add(SchemaShapes.Scalar(KnownClassSimilarityColumnName, NumberDataViewType.Single));
        return SchemaShapes.With(input, [.. columns]);
    }

    private static ModelProto BuildGraph(SemiSupervisedModel model, string featureColumn, DataViewType featureType)
    {
        var g = new OnnxGraphBuilder("semi_supervised_classifier");
        var x = g.AddColumnInput(featureColumn, featureType, OnnxElementType.Double);
        var p = model.FeatureCount;
        var centred = g.AddNode("Sub", [x, g.AddInitializer("feature_mean", model.Mean, p)]);
        var standardised = g.AddNode("Cast", [g.AddNode("Div", [centred, g.AddInitializer("feature_sd", model.Sd, p)])],
            model.Student is null ? MlNetStudent.FeatureColumn : null, Attribute("to", (long)OnnxElementType.Float));
        if (model.Student is { } student)
        {
            var k = model.ClassNames.Count;
            var probabilities = g.AddNode("Softmax", [Mlp(g, "student", student, standardised)], ColumnNames.Score, Attribute("axis", 1L));
            var argmax = g.AddNode("ArgMax", [probabilities], null, Attribute("axis", 1L), Attribute("keepdims", 0L));
            g.AddNode("Cast", [g.AddNode("Add", [argmax, g.AddInitializer("one_index", [1L], 1)])], ColumnNames.PredictedLabel, Attribute("to", (long)OnnxElementType.Float));
            g.AddOutput(ColumnNames.Score, OnnxElementType.Float, Batch, k);
            g.AddOutput(ColumnNames.PredictedLabel, OnnxElementType.Float, Batch);
        }
        else
        {
            g.AddOutput(MlNetStudent.FeatureColumn, OnnxElementType.Float, Batch, p);
        }
        if (model.Teacher is { } teacher)
        {
            var h = Mlp(g, "teacher", teacher, standardised);
            var norm = g.AddNode("Add", [g.AddNode("ReduceL2", [h], null, Attribute("axes", [1L]), Attribute("keepdims", 1L)), g.AddInitializer("norm_eps", [1e-8f], 1)]);
            var z = g.AddNode("Div", [h, norm]);
            var d = teacher.Layers[^1].Out;
            var transposed = new float[model.Anchors.Length];
            for (var a = 0; a < model.AnchorCount; a++)
            {
                for (var j = 0; j < d; j++) transposed[j * model.AnchorCount + a] = model.Anchors[a * d + j];
            }
            var similarity = g.AddNode("MatMul", [z, g.AddInitializer("anchors", transposed, d, model.AnchorCount)]);
            g.AddNode("ReduceMax", [similarity], KnownClassSimilarityColumnName, Attribute("axes", [1L]), Attribute("keepdims", 0L));
            g.AddOutput(KnownClassSimilarityColumnName, OnnxElementType.Float, Batch);
        }
        return g.Build();
    }

    /// <summary>Dense layers as Gemm nodes (W stored [out, in], so transB = 1) with ReLU between them.</summary>
    private static string Mlp(OnnxGraphBuilder g, string prefix, MlpWeights weights, string input)
    {
        var value = input;
        for (var i = 0; i < weights.Layers.Count; i++)
        {
            var layer = weights.Layers[i];
            value = g.AddNode("Gemm", [value, g.AddInitializer($"{prefix}_w{i}", layer.Weight, layer.Out, layer.In), g.AddInitializer($"{prefix}_b{i}", layer.Bias, layer.Out)],
                null, Attribute("transB", 1L));
            if (i < weights.Layers.Count - 1) value = g.AddNode("Relu", [value]);
        }
        return value;
    }
}
