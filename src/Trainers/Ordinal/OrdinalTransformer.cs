using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;
using Microsoft.ML.PaperExtensions.Onnx;
using Onnx;
using static Microsoft.ML.PaperExtensions.Onnx.OnnxGraphBuilder;

namespace Microsoft.ML.PaperExtensions.Ordinal;

/// <summary>
/// A fitted ordinal model (PRESTO or proportional odds) as an ML.NET transformer. The prediction runs as an ONNX graph.
/// </summary>
/// <remarks>
/// <para>Input: the feature column it was fitted on (Single or Double, scalar or known-size vector).</para>
/// <para>Output columns:</para>
/// <list type="table">
/// <item><term>Score</term><description>Vector of K Single class probabilities, in label order (after the crossing policy).</description></item>
/// <item><term>PredictedLabel</term><description>Key column (key values = class names): the most probable class; the missing key (0) for a row that could not be scored (a NaN feature, or crossing under <see cref="CrossingRepair.Error"/>).</description></item>
/// <item><term>RareClassProbability</term><description>Single: P(rare class | x), never changed by a crossing repair.</description></item>
/// <item><term>CrossingRepaired</term><description>Boolean: the row's cumulative probabilities crossed (and were repaired, or made NaN under <see cref="CrossingRepair.Error"/>).</description></item>
/// </list>
/// </remarks>
public sealed class OrdinalTransformer : OnnxBackedTransformer
{
    /// <summary>Name of the rare-class probability column.</summary>
    public const string RareClassProbabilityColumnName = "RareClassProbability";

    /// <summary>Name of the crossing flag column.</summary>
    public const string CrossingRepairedColumnName = "CrossingRepaired";

    /// <summary>The columns an ordinal model adds, in the graph's order.</summary>
    internal static readonly IReadOnlyList<PredictionColumn> Outputs =
    [
        PredictionColumn.Vector(ColumnNames.Score),
        PredictionColumn.Key(ColumnNames.PredictedLabel),
        PredictionColumn.Scalar(RareClassProbabilityColumnName),
        PredictionColumn.Boolean(CrossingRepairedColumnName),
    ];

    internal OrdinalTransformer(MLContext mlContext, OrdinalModel model, DataViewSchema inputSchema, string featureColumnName)
        : base(mlContext, BuildGraph(model, featureColumnName, inputSchema[featureColumnName].Type), inputSchema, Outputs, model.ClassNames)
    {
        Model = model;
        FeatureColumnName = featureColumnName;
    }

    /// <summary>The fitted model: coefficients, lambda path, diagnostics, and the managed prediction math.</summary>
    public OrdinalModel Model { get; }

    /// <summary>The feature column the model reads.</summary>
    public string FeatureColumnName { get; }

    private static ModelProto BuildGraph(OrdinalModel model, string featureColumn, DataViewType featureType)
    {
        int k = model.ClassCount, m = k - 1, p = model.FeatureCount;
        var g = new OnnxGraphBuilder("ordinal_cumulative_logit");
        ModelDetails.Write(g, nameof(OrdinalModel), model.ToDetails());
        var x = g.AddColumnInput(featureColumn, featureType, OnnxElementType.Double);
        var weights = new double[p * m];
        for (var j = 0; j < p; j++)
        {
            for (var b = 0; b < m; b++) weights[j * m + b] = model.Weights[b][j];
        }
        var eta = g.AddNode("Add", [g.AddNode("MatMul", [x, g.AddInitializer("weights", weights, p, m)]), g.AddInitializer("intercepts", model.Intercepts.ToArray(), m)]);
        var cdf = g.AddNode("Sigmoid", [eta]);
        var zeroColumn = g.AddNode("Mul", [g.Columns(cdf, 0, 1), g.AddInitializer("zero", [0.0], 1)]);
        var oneColumn = g.AddNode("Add", [zeroColumn, g.AddInitializer("one", [1.0], 1)]);

        // Crossing: any F_k > F_{k+1}.
        var crossed = m == 1
            ? g.AddNode("Reshape", [zeroColumn, g.AddInitializer("flat", [-1L], 1)])
            : g.AddNode("ReduceMax", [g.AddNode("Cast", [g.AddNode("Greater", [g.Columns(cdf, 0, m - 1), g.Columns(cdf, 1, m)])], null, Attribute("to", (long)OnnxElementType.Double))],
                null, Attribute("axes", [1L]), Attribute("keepdims", 0L));

        var repaired = model.CrossingRepair switch
        {
            CrossingRepair.Clip when m > 1 => RepairCrossedRows(g, cdf, crossed, rows => RunningMinimumFromTop(g, rows, m)),
            CrossingRepair.Isotonic when m > 1 => RepairCrossedRows(g, cdf, crossed, rows => IsotonicWithLastFixed(g, rows, m)),
            _ => cdf,
        };
        var probabilities = g.AddNode("Sub", [g.AddNode("Concat", [repaired, oneColumn], null, Attribute("axis", 1L)), g.AddNode("Concat", [zeroColumn, repaired], null, Attribute("axis", 1L))]);
        if (model.CrossingRepair == CrossingRepair.Error)
        {
            var flag = g.AddNode("Cast", [g.AddNode("Unsqueeze", [crossed, g.AddInitializer("axis1", [1L], 1)])], null, Attribute("to", (long)OnnxElementType.Bool));
            probabilities = g.AddNode("Where", [flag, g.AddInitializer("nan", [double.NaN], 1), probabilities]);
        }
        if (model.RareClass == RareClassPosition.First)
        {
            probabilities = g.AddNode("Gather", [probabilities, g.AddInitializer("reversed", Enumerable.Range(0, k).Reverse().Select(i => (long)i).ToArray(), k)], null, Attribute("axis", 1L));
        }
        g.AddNode("Cast", [probabilities], ColumnNames.Score, Attribute("to", (long)OnnxElementType.Float));
        g.PredictedIndex(probabilities, ColumnNames.PredictedLabel);
        var rare = g.AddNode("Sigmoid", [g.AddNode("Neg", [g.Columns(eta, m - 1, m)])]);
        g.AddNode("Cast", [g.AddNode("Reshape", [rare, g.AddInitializer("flat_rare", [-1L], 1)])], RareClassProbabilityColumnName, Attribute("to", (long)OnnxElementType.Float));
        g.AddNode("Cast", [crossed], CrossingRepairedColumnName, Attribute("to", (long)OnnxElementType.Float));

        g.AddOutput(Outputs[0], k);
        foreach (var scalar in Outputs.Skip(1)) g.AddOutput(scalar);
        return g.Build();
    }

    /// <summary>
    /// Applies <paramref name="repair"/> to the rows that crossed only (gathered, repaired, scattered back): the repairs cost
    /// O(m^2) or O(m^3) per row, and crossing rows are few.
    /// </summary>
    private static string RepairCrossedRows(OnnxGraphBuilder g, string cdf, string crossed, Func<string, string> repair)
    {
        var where = g.AddNode("NonZero", [g.AddNode("Greater", [crossed, g.AddInitializer("not_crossed", [0.0], 1)])]);   // [1, c]
        var rows = g.AddNode("Gather", [cdf, g.Flatten(where)], null, Attribute("axis", 0L));                            // [c, m]
        return g.AddNode("ScatterND", [cdf, g.AddNode("Transpose", [where]), repair(rows)]);                             // indices [c, 1]
    }

    /// <summary>F'_k = min over j &gt;= k of F_j, as a masked minimum over [N, k, j].</summary>
    private static string RunningMinimumFromTop(OnnxGraphBuilder g, string cdf, int m)
    {
        var mask = new double[m * m];
        for (var k = 0; k < m; k++)
        {
            for (var j = 0; j < k; j++) mask[k * m + j] = double.PositiveInfinity;
        }
        var expanded = g.AddNode("Unsqueeze", [cdf, g.AddInitializer("clip_axis", [1L], 1)]);
        var masked = g.AddNode("Add", [expanded, g.AddInitializer("clip_mask", mask, 1, m, m)]);
        return g.AddNode("ReduceMin", [masked], null, Attribute("axes", [2L]), Attribute("keepdims", 0L));
    }

    /// <summary>
    /// Isotonic regression of F_1..F_{m} with F_m fixed, by the max-min formula F'_k = max_{i &lt;= k} min_{j &gt;= k} mean(F_i..F_j),
    /// where a block that reaches the last value takes that value (its weight is infinite).
    /// </summary>
    private static string IsotonicWithLastFixed(OnnxGraphBuilder g, string cdf, int m)
    {
        var zeroColumn = g.AddNode("Mul", [g.Columns(cdf, 0, 1), g.AddInitializer("iso_zero", [0.0], 1)]);
        var sums = g.AddNode("Concat", [zeroColumn, g.AddNode("CumSum", [cdf, g.AddInitializer("iso_axis", [1L], [])])], null, Attribute("axis", 1L)); // [N, m+1]
        var upper = g.AddNode("Unsqueeze", [g.Columns(sums, 1, m + 1), g.AddInitializer("iso_u", [1L], 1)]);   // [N, 1, m]: S_{j+1}
        var lower = g.AddNode("Unsqueeze", [g.Columns(sums, 0, m), g.AddInitializer("iso_l", [2L], 1)]);       // [N, m, 1]: S_i
        var length = new double[m * m];
        var last = new bool[m * m];
        var maskJ = new double[m * m];
        var maskI = new double[m * m];
        for (var a = 0; a < m; a++)
        {
            for (var b = 0; b < m; b++)
            {
                length[a * m + b] = Math.Max(b - a + 1, 1);
                last[a * m + b] = b == m - 1;
                maskJ[a * m + b] = b < a ? double.PositiveInfinity : 0;   // [k, j]
                maskI[a * m + b] = b > a ? double.NegativeInfinity : 0;   // [k, i]
            }
        }
        var means = g.AddNode("Div", [g.AddNode("Sub", [upper, lower]), g.AddInitializer("iso_length", length, m, m)]);   // [N, i, j]
        var lastValue = g.AddNode("Unsqueeze", [g.Columns(cdf, m - 1, m), g.AddInitializer("iso_lv", [2L], 1)]);        // [N, 1, 1]
        var lastMask = g.AddNode("Cast", [g.AddInitializer("iso_last", last.Select(v => v ? 1.0 : 0.0).ToArray(), m, m)], null, Attribute("to", (long)OnnxElementType.Bool));
        means = g.AddNode("Where", [lastMask, lastValue, means]);
        var byK = g.AddNode("Add", [g.AddNode("Unsqueeze", [means, g.AddInitializer("iso_k", [1L], 1)]), g.AddInitializer("iso_mask_j", maskJ, 1, m, 1, m)]); // [N, k, i, j]
        var minOverJ = g.AddNode("ReduceMin", [byK], null, Attribute("axes", [3L]), Attribute("keepdims", 0L));               // [N, k, i]
        var masked = g.AddNode("Add", [minOverJ, g.AddInitializer("iso_mask_i", maskI, 1, m, m)]);
        return g.AddNode("ReduceMax", [masked], null, Attribute("axes", [2L]), Attribute("keepdims", 0L));                    // [N, k]
    }
}
