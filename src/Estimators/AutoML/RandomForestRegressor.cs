namespace Microsoft.ML.PaperExtensions.AutoML;

/// <summary>
/// A small random forest for regression, the surrogate model of <see cref="SmacTuner"/>: tens of points in a few dimensions,
/// so it is kept simple. Each tree is grown on a bootstrap sample of the rows, choosing at each node the split of largest
/// squared-error reduction among a random subset of the features (thresholds half-way between neighbouring distinct values);
/// a node with fewer than 2 <c>minimumLeafSize</c> rows, or with equal targets, is a leaf. A prediction is the mean of the
/// trees' leaf means and its variance the variance between the trees (SMAC's estimate of the model's uncertainty).
/// </summary>
internal sealed class RandomForestRegressor
{
    private readonly Tree[] _trees;

    private RandomForestRegressor(Tree[] trees) => _trees = trees;

    /// <summary>Grows the forest.</summary>
    /// <param name="features">One row per point; every row has the same length.</param>
    /// <param name="targets">One finite value per row.</param>
    /// <param name="trees">Number of trees.</param>
    /// <param name="featureFraction">Share of the features each split considers (at least one).</param>
    /// <param name="minimumLeafSize">Fewest rows in a leaf.</param>
    /// <param name="random">Draws the bootstrap samples and the feature subsets.</param>
    public static RandomForestRegressor Fit(IReadOnlyList<double[]> features, IReadOnlyList<double> targets, int trees, double featureFraction, int minimumLeafSize, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(features.Count, 1);
        if (targets.Count != features.Count) throw new ArgumentException("One target per row.", nameof(targets));
        var dimension = features[0].Length;
        var perSplit = Math.Clamp((int)Math.Ceiling(featureFraction * dimension), 1, Math.Max(1, dimension));
        var forest = new Tree[trees];
        for (var t = 0; t < trees; t++)
        {
            var rows = Enumerable.Range(0, features.Count).Select(_ => random.Next(features.Count)).ToArray();
            var tree = new Tree();
            tree.Grow(features, targets, rows, perSplit, Math.Max(1, minimumLeafSize), random);
            forest[t] = tree;
        }
        return new RandomForestRegressor(forest);
    }

    /// <summary>The forest's mean prediction at <paramref name="point"/> and the variance of the trees' predictions around it.</summary>
    public (double Mean, double Variance) Predict(ReadOnlySpan<double> point)
    {
        double sum = 0, squares = 0;
        foreach (var tree in _trees)
        {
            var value = tree.Predict(point);
            sum += value;
            squares += value * value;
        }
        var mean = sum / _trees.Length;
        return (mean, Math.Max(0, squares / _trees.Length - mean * mean));
    }

    /// <summary>One regression tree, its nodes in parallel lists (a leaf has feature -1).</summary>
    private sealed class Tree
    {
        private readonly List<int> _feature = [];
        private readonly List<double> _threshold = [];
        private readonly List<int> _left = [];
        private readonly List<int> _right = [];
        private readonly List<double> _value = [];

        public void Grow(IReadOnlyList<double[]> x, IReadOnlyList<double> y, int[] rows, int perSplit, int minimumLeafSize, Random random) =>
            Node(x, y, rows, perSplit, minimumLeafSize, random);

        private int Node(IReadOnlyList<double[]> x, IReadOnlyList<double> y, int[] rows, int perSplit, int minimumLeafSize, Random random)
        {
            var index = _feature.Count;
            _feature.Add(-1);
            _threshold.Add(0);
            _left.Add(-1);
            _right.Add(-1);
            _value.Add(rows.Average(r => y[r]));
            if (rows.Length < 2 * minimumLeafSize || rows.All(r => y[r] == y[rows[0]])) return index;

            var dimension = x[0].Length;
            var candidates = Enumerable.Range(0, dimension).ToArray();
            random.Shuffle(candidates);
            double total = rows.Sum(r => y[r]), bestGain = 1e-12, bestThreshold = 0;
            var bestFeature = -1;
            foreach (var feature in candidates.Take(perSplit))
            {
                var sorted = rows.OrderBy(r => x[r][feature]).ToArray();
                // Squared-error reduction of a split = nL meanL^2 + nR meanR^2 - n mean^2.
                double left = 0;
                for (var k = 0; k < sorted.Length - 1; k++)
                {
                    left += y[sorted[k]];
                    var (here, next) = (x[sorted[k]][feature], x[sorted[k + 1]][feature]);
                    int nLeft = k + 1, nRight = sorted.Length - nLeft;
                    if (here == next || nLeft < minimumLeafSize || nRight < minimumLeafSize) continue;
                    var gain = left * left / nLeft + (total - left) * (total - left) / nRight - total * total / sorted.Length;
                    if (gain > bestGain)
                    {
                        (bestGain, bestFeature, bestThreshold) = (gain, feature, (here + next) / 2);
                    }
                }
            }
            if (bestFeature < 0) return index;
            var goLeft = rows.Where(r => x[r][bestFeature] <= bestThreshold).ToArray();
            var goRight = rows.Where(r => x[r][bestFeature] > bestThreshold).ToArray();
            _feature[index] = bestFeature;
            _threshold[index] = bestThreshold;
            _left[index] = Node(x, y, goLeft, perSplit, minimumLeafSize, random);
            _right[index] = Node(x, y, goRight, perSplit, minimumLeafSize, random);
            return index;
        }

        public double Predict(ReadOnlySpan<double> point)
        {
            var node = 0;
            while (_feature[node] >= 0) node = point[_feature[node]] <= _threshold[node] ? _left[node] : _right[node];
            return _value[node];
        }
    }
}
