using Microsoft.ML.PaperExtensions.Runtime;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.SemiSupervised;

/// <summary>Pseudo-labels and weights of unlabelled rows, from their class scores.</summary>
/// <param name="Scores">s_k(u) per row and class, [rows, K] float64.</param>
/// <param name="PseudoClasses">argmax_k s_k(u); on a tie the lowest class index.</param>
/// <param name="Weights">The top-2 margin w = s(1) - s(2), in [0, 2]; 0 when s(1) is below the optional floor.</param>
/// <param name="TopScores">s(1), the highest class score.</param>
internal sealed record PseudoLabels(double[] Scores, long[] PseudoClasses, double[] Weights, double[] TopScores);

/// <summary>
/// WAD's class scores (section 3.2): the score of row u for class k is the highest cosine similarity between u's embedding
/// and the embeddings of class k's anchors; the pseudo-label is the best class and the weight the margin to the second.
/// </summary>
internal static class AnchorScores
{
    private const long Chunk = 4096;

    /// <param name="rows">Normalised embeddings of the rows to score, [n, D] float64.</param>
    /// <param name="anchors">Normalised embeddings of the anchors, [m, D] float64.</param>
    /// <param name="anchorClasses">The class of each anchor, 0..K-1; every class needs one.</param>
    /// <param name="classCount">K, at least 2.</param>
    /// <param name="scoring">Nearest anchor (WAD) or class prototype.</param>
    /// <param name="minTopScore">When given, rows whose best score is below it get weight 0 (not part of WAD).</param>
    public static PseudoLabels Compute(Tensor rows, Tensor anchors, IReadOnlyList<int> anchorClasses, int classCount, AnchorScoring scoring, double? minTopScore)
    {
        using var scope = NewDisposeScope();
        return Label(Scores(rows, anchors, anchorClasses, classCount, scoring), minTopScore);
    }

    /// <summary>The class scores s_k(u), [n, K] float64 (see <see cref="Compute"/> for the arguments).</summary>
    public static Tensor Scores(Tensor rows, Tensor anchors, IReadOnlyList<int> anchorClasses, int classCount, AnchorScoring scoring)
    {
        var device = rows.device;
        var members = Enumerable.Range(0, classCount)
            .Select(k => tensor(Enumerable.Range(0, anchorClasses.Count).Where(a => anchorClasses[a] == k).Select(a => (long)a).ToArray(), device: device))
            .ToArray();
        var prototypes = scoring == AnchorScoring.Prototype
            ? ContrastiveTeacher.Normalise(stack(members.Select(m => anchors.index_select(0, m).mean([0])).ToArray()))
            : null;
        var parts = new List<Tensor>();
        for (long start = 0; start < rows.shape[0]; start += Chunk)
        {
            var chunk = rows.narrow(0, start, Math.Min(Chunk, rows.shape[0] - start));
            if (prototypes is not null)
            {
                parts.Add(chunk.mm(prototypes.t()));
                continue;
            }
            var similarity = chunk.mm(anchors.t());
            parts.Add(stack(members.Select(m => similarity.index_select(1, m).amax([1])).ToArray(), 1));
        }
        return parts.Count == 0 ? zeros([0, classCount], ScalarType.Float64, device) : cat(parts, 0);
    }

    /// <summary>Pseudo-labels and weights from class scores [n, K].</summary>
    public static PseudoLabels Label(Tensor scores, double? minTopScore)
    {
        using var scope = NewDisposeScope();
        var classCount = scores.shape[1];
        var device = scores.device;
        var top = scores.topk(2, 1).values;
        var best = top.select(1, 0);
        var weights = best.sub(top.select(1, 1));
        if (minTopScore is { } floor)
        {
            weights = where(best.lt(floor), zeros_like(weights), weights);
        }
        // Lowest class index among the ties for the best score.
        var indices = arange(classCount, device: device).expand(scores.shape);
        var pseudo = where(scores.eq(best.unsqueeze(1)), indices, full_like(indices, classCount)).amin([1]);
        return new PseudoLabels(TensorCopy.ToArray(scores), TensorCopy.ToArray<long>(pseudo), TensorCopy.ToArray(weights), TensorCopy.ToArray(best));
    }
}
