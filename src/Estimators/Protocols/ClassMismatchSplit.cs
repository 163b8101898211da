namespace Microsoft.ML.PaperExtensions.Protocols;

/// <summary>
/// The class-mismatch protocol of semi-supervised evaluation (WAD spec, section 5): some classes are known, the rest unknown.
/// Per known class a share of rows is held out for testing and a fixed number is labelled; the other known-class rows (T)
/// form the unlabelled pool together with ceil(rho T / (1 - rho)) unknown-class rows, so that rho is the unknown share of
/// the pool. Test rows come from the known classes only.
/// </summary>
/// <param name="Labeled">Rows with their label kept.</param>
/// <param name="Unlabeled">Rows whose label is hidden: known-class rows first, then unknown-class rows.</param>
/// <param name="UnknownInPool">How many of <paramref name="Unlabeled"/> (the last ones) are unknown-class rows.</param>
/// <param name="Test">Held-out known-class rows.</param>
/// <param name="AchievedMismatch">The unknown share of the pool: rho, or less when the unknown rows ran out.</param>
public sealed record ClassMismatchSplit(int[] Labeled, int[] Unlabeled, int UnknownInPool, int[] Test, double AchievedMismatch)
{
    /// <summary>Draws a split.</summary>
    /// <param name="labels">The true class of every row.</param>
    /// <param name="knownClasses">The classes treated as known; every other class is unknown.</param>
    /// <param name="labeledPerClass">Labelled rows per known class.</param>
    /// <param name="mismatch">rho in [0, 1).</param>
    /// <param name="testFraction">The share of each known class held out for testing, in [0, 1).</param>
    /// <param name="seed">The seed of the shuffles (System.Random).</param>
    /// <exception cref="ArgumentException">A known class has too few rows, or an option is out of range.</exception>
    public static ClassMismatchSplit Create(IReadOnlyList<int> labels, IReadOnlyCollection<int> knownClasses, int labeledPerClass, double mismatch, double testFraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(knownClasses);
        ArgumentOutOfRangeException.ThrowIfLessThan(labeledPerClass, 1);
        if (!(mismatch >= 0 && mismatch < 1)) throw new ArgumentOutOfRangeException(nameof(mismatch), mismatch, $"mismatch must lie in [0, 1), but is {mismatch}.");
        if (!(testFraction >= 0 && testFraction < 1)) throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, $"testFraction must lie in [0, 1), but is {testFraction}.");
        var random = new Random(seed);
        List<int> labeled = [], pool = [], test = [];
        foreach (var c in knownClasses.Order())
        {
            var rows = Shuffled(Enumerable.Range(0, labels.Count).Where(i => labels[i] == c), random);
            var held = (int)Math.Round(testFraction * rows.Length);
            if (rows.Length - held < labeledPerClass)
            {
                throw new ArgumentException($"Known class {c} has {rows.Length} rows; {held} test and {labeledPerClass} labelled rows do not fit.", nameof(labels));
            }
            test.AddRange(rows.Take(held));
            labeled.AddRange(rows.Skip(held).Take(labeledPerClass));
            pool.AddRange(rows.Skip(held + labeledPerClass));
        }
        var unknown = Shuffled(Enumerable.Range(0, labels.Count).Where(i => !knownClasses.Contains(labels[i])), random);
        var wanted = (int)Math.Ceiling(mismatch * pool.Count / (1 - mismatch) - 1e-9);
        var taken = Math.Min(wanted, unknown.Length);
        pool.AddRange(unknown.Take(taken));
        return new ClassMismatchSplit([.. labeled], [.. pool], taken, [.. test], pool.Count == 0 ? 0 : (double)taken / pool.Count);
    }

    /// <summary>
    /// Applies the split to labelled data whose rows are those of the <c>labels</c> given to <see cref="Create"/>, in the same
    /// order: the training view holds the labelled and the unlabelled rows (the latter with the label replaced by NaN, the
    /// missing key or empty text), the test view the held-out rows; both keep the source order and every column.
    /// </summary>
    /// <param name="data">The labelled data.</param>
    /// <param name="labelColumnName">The label column: Single, Double, key or text.</param>
    public (IDataView Train, IDataView Test) Apply(IDataView data, string labelColumnName = ColumnNames.Label)
    {
        ArgumentNullException.ThrowIfNull(data);
        var rows = Labeled.Concat(Unlabeled).Concat(Test).DefaultIfEmpty(-1).Max() + 1;
        if (data.GetRowCount() is { } count) rows = (int)Math.Max(rows, count);
        var train = new bool[rows];
        var hidden = new bool[rows];
        var test = new bool[rows];
        foreach (var i in Labeled) train[i] = true;
        foreach (var i in Unlabeled) train[i] = hidden[i] = true;
        foreach (var i in Test) test[i] = true;
        return (new RowSubsetDataView(data, train, hidden, labelColumnName), new RowSubsetDataView(data, test));
    }

    private static int[] Shuffled(IEnumerable<int> rows, Random random)
    {
        var array = rows.ToArray();
        random.Shuffle(array);
        return array;
    }
}
