using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Onnx;
using Onnx;
using static Microsoft.ML.PaperExtensions.Onnx.OnnxGraphBuilder;

namespace Microsoft.ML.PaperExtensions.SemiSupervised;

/// <summary>
/// A fitted semi-supervised classifier (WAD or a baseline) as an ML.NET transformer. The feature standardisation, the MLP
/// student (or the neighbour student's vote of the k nearest training rows it keeps) and the teacher's similarity to the
/// anchors run as one ONNX graph; with an ML.NET trainer as the student, the graph computes the standardised features and that
/// trainer's own transformer predicts from them.
/// </summary>
/// <remarks>
/// <para>Input: the feature column it was fitted on (Single or Double, scalar or known-size vector).</para>
/// <para>Output columns:</para>
/// <list type="table">
/// <item><term>Score</term><description>Vector of K Single probabilities over the known classes, in <see cref="SemiSupervisedModel.ClassNames"/> order.</description></item>
/// <item><term>PredictedLabel</term><description>Key column (key values = class names): the most probable known class; the missing key (0) for a row with a NaN feature.</description></item>
/// <item><term>KnownClassSimilarity</term><description>
/// Single in [-1, 1]: the highest cosine similarity between the row's teacher embedding and any anchor (a labelled or
/// promoted training row). Low values flag rows that look like no known class. Only for methods with a teacher (WAD,
/// pseudo-labelling).</description></item>
/// <item><term>KnownClassConfidence</term><description>
/// Single in [0, 2]: WAD's first-round weight for this row, the margin between its two best class scores against the labelled
/// rows' embeddings (nearest labelled row per class, or class prototypes, as <see cref="SemiSupervisedModel.Scoring"/>); promoted
/// rows are left out, since a promoted row of an unknown class would vouch for its own cluster. Rows between known classes or
/// far from all of them get low values; with <see cref="SemiSupervisedModel.UnknownThreshold"/> set, rows below it get the missing key
/// in <c>PredictedLabel</c>. Only for methods with a teacher; NaN for a row with a NaN feature.</description></item>
/// </list>
/// <para>Size: with the neighbour student (<see cref="StudentRule.Neighbors"/>) the graph stores its voting training rows in the
/// graph space (up to n x d doubles) and their votes (n x K), and each prediction costs O(n d), as label spreading's does.</para>
/// </remarks>
public sealed class SemiSupervisedTransformer : OnnxBackedTransformer
{
    /// <summary>Name of the known-class similarity column.</summary>
    public const string KnownClassSimilarityColumnName = "KnownClassSimilarity";

    /// <summary>
    /// Name of the per-row confidence column of label spreading (higher = more likely a known class), which
    /// <c>UnknownThreshold</c> compares with.
    /// </summary>
    public const string KnownClassConfidenceColumnName = "KnownClassConfidence";

    internal SemiSupervisedTransformer(MLContext mlContext, SemiSupervisedModel model, DataViewSchema inputSchema, string featureColumnName)
        : base(mlContext, BuildGraph(model, featureColumnName, inputSchema[featureColumnName].Type), inputSchema, GraphOutputs(model), model.ClassNames,
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

    /// <summary>The columns a semi-supervised model adds.</summary>
    internal static IReadOnlyList<PredictionColumn> Outputs(bool hasTeacher) => hasTeacher
        ? [PredictionColumn.Vector(ColumnNames.Score), PredictionColumn.Key(ColumnNames.PredictedLabel), PredictionColumn.Scalar(KnownClassSimilarityColumnName),
            PredictionColumn.Scalar(KnownClassConfidenceColumnName)]
        : [PredictionColumn.Vector(ColumnNames.Score), PredictionColumn.Key(ColumnNames.PredictedLabel)];

    /// <summary>What the graph writes: the prediction columns, or, with an ML.NET student (which predicts after it), the standardised features.</summary>
    private static IReadOnlyList<PredictionColumn> GraphOutputs(SemiSupervisedModel model) => model.StudentTransformer is null
        ? Outputs(model.HasTeacher)
        : model.HasTeacher
            ? [PredictionColumn.Vector(MlNetStudent.FeatureColumn), PredictionColumn.Scalar(KnownClassSimilarityColumnName), PredictionColumn.Scalar(KnownClassConfidenceColumnName)]
            : [PredictionColumn.Vector(MlNetStudent.FeatureColumn)];

    private static ModelProto BuildGraph(SemiSupervisedModel model, string featureColumn, DataViewType featureType)
    {
        var g = new OnnxGraphBuilder("semi_supervised_classifier");
        ModelDetails.Write(g, nameof(SemiSupervisedModel), model.ToDetails());
        var x = g.AddColumnInput(featureColumn, featureType, OnnxElementType.Double);
        var p = model.FeatureCount;
        var scaled = g.AddNode("Div", [g.AddNode("Sub", [x, g.AddInitializer("feature_mean", model.Mean, p)]), g.AddInitializer("feature_sd", model.Sd, p)]);
        var standardised = g.AddNode("Cast", [scaled], model.StudentTransformer is null ? null : MlNetStudent.FeatureColumn, Attribute("to", (long)OnnxElementType.Float));
        string? embedding = null, margin = null;
        if (model.Teacher is { } teacher)
        {
            var h = Mlp(g, "teacher", teacher, standardised);
            var norm = g.AddNode("Add", [g.AddNode("ReduceL2", [h], null, Attribute("axes", [1L]), Attribute("keepdims", 1L)), g.AddInitializer("norm_eps", [1e-8f], 1)]);
            embedding = g.AddNode("Div", [h, norm]);
            var d = teacher.Layers[^1].Out;
            var transposed = new float[model.Anchors.Length];
            for (var a = 0; a < model.AnchorCount; a++)
            {
                for (var j = 0; j < d; j++) transposed[j * model.AnchorCount + a] = model.Anchors[a * d + j];
            }
            var similarity = g.AddNode("MatMul", [embedding, g.AddInitializer("anchors", transposed, d, model.AnchorCount)]);
            g.AddNode("ReduceMax", [similarity], KnownClassSimilarityColumnName, Attribute("axes", [1L]), Attribute("keepdims", 0L));
            margin = AnchorMargin(g, model, embedding, similarity, d);
            g.AddNode("Identity", [margin], KnownClassConfidenceColumnName);
        }
        string? probabilities = null;
        if (model.StudentWeights is { } student)
        {
            probabilities = g.AddNode("Softmax", [Mlp(g, "student", student, standardised)], ColumnNames.Score, Attribute("axis", 1L));
        }
        else if (model.Neighbors is { } votes)
        {
            var query = votes.Space switch
            {
                PropagationSpace.Features => scaled,
                PropagationSpace.RawFeatures => x,
                _ => g.AddNode("Cast", [embedding!], null, Attribute("to", (long)OnnxElementType.Double)),
            };
            var distances = NeighborVoteGraph.SquaredDistances(g, "voters", query, votes.Rows, votes.Count, votes.Dimension);
            var sums = NeighborVoteGraph.NearestVotes(g, "voters", distances, g.AddInitializer("voter_targets", votes.Targets, votes.Count, model.ClassNames.Count),
                Math.Min(votes.Neighbors, votes.Count));
            var total = g.AddNode("ReduceSum", [sums, g.AddInitializer("axis_k", [1L], 1)], null, Attribute("keepdims", 1L));
            probabilities = g.CastToFloat(g.AddNode("Add", [g.AddNode("Div", [sums, total]), NeighborVoteGraph.NanProbe(g, scaled)]), ColumnNames.Score);
        }
        if (probabilities is not null)
        {
            if (model.UnknownThreshold is { } threshold && margin is not null)
            {
                var index = g.PredictedIndex(probabilities, g.NewName("index"));
                g.AddNode("Where", [g.AddNode("Less", [margin, g.AddInitializer("unknown_threshold", [(float)threshold], 1)]), g.AddInitializer("missing_key", [0f], 1), index],
                    ColumnNames.PredictedLabel);
            }
            else
            {
                g.PredictedIndex(probabilities, ColumnNames.PredictedLabel);
            }
        }
        foreach (var column in GraphOutputs(model))
        {
            g.AddOutput(column, column.Name == ColumnNames.Score ? model.ClassNames.Count : p);
        }
        return g.Build();
    }

    /// <summary>
    /// WAD's first-round weight of each row, [N]: the teacher's class scores against the labelled anchors (the first
    /// <see cref="SemiSupervisedModel.LabeledRowCount"/>; the best cosine to each class's, or to each class's normalised mean)
    /// and the margin between the two best.
    /// </summary>
    private static string AnchorMargin(OnnxGraphBuilder g, SemiSupervisedModel model, string z, string similarity, int d)
    {
        var classes = model.ClassNames.Count;
        var labeled = model.LabeledRowCount;
        string scores;
        if (model.Scoring == AnchorScoring.Prototype)
        {
            var prototypes = new float[d * classes];
            for (var k = 0; k < classes; k++)
            {
                var mean = new double[d];
                var members = 0;
                for (var a = 0; a < labeled; a++)
                {
                    if (model.AnchorClasses[a] != k) continue;
                    members++;
                    for (var j = 0; j < d; j++) mean[j] += model.Anchors[a * d + j];
                }
                var norm = Math.Sqrt(mean.Sum(v => (v / members) * (v / members))) + 1e-8;
                for (var j = 0; j < d; j++) prototypes[j * classes + k] = (float)(mean[j] / members / norm);
            }
            scores = g.AddNode("MatMul", [z, g.AddInitializer("prototypes", prototypes, d, classes)]);
        }
        else
        {
            var perClass = Enumerable.Range(0, classes).Select(k =>
            {
                var members = Enumerable.Range(0, labeled).Where(a => model.AnchorClasses[a] == k).Select(a => (long)a).ToArray();
                var gathered = g.AddNode("Gather", [similarity, g.AddInitializer($"anchors_of_class_{k}", members, members.Length)], null, Attribute("axis", 1L));
                return g.AddNode("ReduceMax", [gathered], null, Attribute("axes", [1L]), Attribute("keepdims", 1L));
            }).ToArray();
            scores = g.AddNode("Concat", perClass, null, Attribute("axis", 1L));
        }
        var top = g.AddMultiOutputNode("TopK", [scores, g.AddInitializer("top_two", [2L], 1)], [g.NewName("top_scores"), g.NewName("top_classes")],
            Attribute("axis", 1L), Attribute("largest", 1L), Attribute("sorted", 1L))[0];
        return g.AddNode("Sub", [g.Flatten(g.Columns(top, 0, 1)), g.Flatten(g.Columns(top, 1, 2))]);
    }

    private static string Mlp(OnnxGraphBuilder g, string prefix, MlpWeights weights, string input) =>
        g.Mlp(prefix, weights.Layers.Select(l => (l.In, l.Out, l.Weight, l.Bias)).ToList(), input);
}
