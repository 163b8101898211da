using Microsoft.ML.PaperExtensions.Onnx;
using static Microsoft.ML.PaperExtensions.Onnx.OnnxGraphBuilder;

namespace Microsoft.ML.PaperExtensions.SemiSupervised;

/// <summary>ONNX nodes that predict a row from stored training rows: squared distances to them and the votes of the k nearest.</summary>
internal static class NeighborVoteGraph
{
    /// <summary>
    /// Squared Euclidean distances [N, n] float64 from <paramref name="query"/> ([N, p] float64) to the stored rows
    /// (<paramref name="rows"/>, [n, p] row-major), as ||q||^2 + ||r||^2 - 2 q.r.
    /// </summary>
    public static string SquaredDistances(OnnxGraphBuilder g, string prefix, string query, double[] rows, int n, int p)
    {
        var transposed = new double[p * n];
        var norms = new double[n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < p; j++)
            {
                var v = rows[i * p + j];
                transposed[j * n + i] = v;
                norms[i] += v * v;
            }
        }
        var cross = g.AddNode("MatMul", [query, g.AddInitializer($"{prefix}_rows_t", transposed, p, n)]);
        var queryNorms = g.AddNode("ReduceSumSquare", [query], null, Attribute("axes", [1L]), Attribute("keepdims", 1L));
        return g.AddNode("Sub", [g.AddNode("Add", [queryNorms, g.AddInitializer($"{prefix}_norms", norms, n)]), g.AddNode("Mul", [cross, g.Const(2)])]);
    }

    /// <summary>The sum [N, K] of the rows of <paramref name="targets"/> ([n, K] initializer) of the <paramref name="k"/> nearest stored rows.</summary>
    public static string NearestVotes(OnnxGraphBuilder g, string prefix, string distances, string targets, int k)
    {
        var nearest = g.AddMultiOutputNode("TopK", [distances, g.AddInitializer($"{prefix}_k", [(long)k], 1)],
            [g.NewName("nearest"), g.NewName("nearest_index")], Attribute("axis", 1L), Attribute("largest", 0L), Attribute("sorted", 1L))[1];
        return g.AddNode("ReduceSum", [g.AddNode("Gather", [targets, nearest], null, Attribute("axis", 0L)), g.AddInitializer($"{prefix}_axis", [1L], 1)],
            null, Attribute("keepdims", 0L));
    }

    /// <summary>NaN [N, 1] where a row of <paramref name="values"/> ([N, p] float64) holds a NaN, else 0: added to a row's scores, it makes them NaN.</summary>
    public static string NanProbe(OnnxGraphBuilder g, string values) =>
        g.AddNode("ReduceSum", [g.AddNode("Mul", [values, g.Const(0)]), g.AddInitializer(g.NewName("axis_1"), [1L], 1)], null, Attribute("keepdims", 1L));
}
