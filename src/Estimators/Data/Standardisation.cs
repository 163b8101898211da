namespace Microsoft.ML.PaperExtensions.Data;

/// <summary>
/// Weighted means and population standard deviations of the columns of a row-major matrix, as the trainers centre and
/// scale features internally: <c>sd_j = sqrt(sum_i w_i (x_ij - m_j)^2 / sum_i w_i)</c>.
/// </summary>
internal static class Standardisation
{
    /// <summary>
    /// Statistics over <paramref name="rows"/> (all rows when null). A column whose SD is below 1e-12 (relative) is constant:
    /// its SD is replaced by 1 and its index is in <paramref name="constantColumns"/>, for the caller to report or accept.
    /// </summary>
    public static (double[] Mean, double[] Sd) Compute(double[] values, int width, double[] weights, IReadOnlyList<int>? rows, out List<int> constantColumns)
    {
        var mean = new double[width];
        var sd = new double[width];
        var count = width == 0 ? weights.Length : values.Length / width;
        var all = rows ?? Enumerable.Range(0, count).ToArray();
        double total = 0;
        foreach (var i in all)
        {
            total += weights[i];
            for (var j = 0; j < width; j++) mean[j] += weights[i] * values[i * width + j];
        }
        for (var j = 0; j < width; j++) mean[j] /= total;
        foreach (var i in all)
        {
            for (var j = 0; j < width; j++)
            {
                var d = values[i * width + j] - mean[j];
                sd[j] += weights[i] * d * d;
            }
        }
        constantColumns = [];
        for (var j = 0; j < width; j++)
        {
            sd[j] = Math.Sqrt(sd[j] / total);
            if (!(sd[j] > 1e-12 * Math.Max(1, Math.Abs(mean[j]))))
            {
                constantColumns.Add(j);
                sd[j] = 1;
            }
        }
        return (mean, sd);
    }
}
