using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Protocols;

namespace Microsoft.ML.PaperExtensions.AutoML;

/// <summary>
/// The training and validation rows of every trial: a given pair, a random holdout, or K folds. Rows are assigned by a
/// seeded permutation, so the same seed gives the same split. For semi-supervised data, rows whose label is missing stay in
/// every training set and only labelled rows are held out (the metric needs their labels).
/// </summary>
public sealed class DatasetSplit
{
    // How the split was drawn (null for a given pair): the same kind of split under another seed, for Resample.
    private readonly Func<int, DatasetSplit>? _resample;

    private DatasetSplit(IReadOnlyList<(IDataView Train, IDataView Validation)> folds, IDataView? refitData, Func<int, DatasetSplit>? resample = null,
        int heldOutRowCount = 0)
    {
        Folds = folds;
        RefitData = refitData;
        _resample = resample;
        HeldOutRowCount = heldOutRowCount;
    }

    /// <summary>The (training, validation) pairs a trial fits and scores; one pair for a holdout.</summary>
    public IReadOnlyList<(IDataView Train, IDataView Validation)> Folds { get; }

    /// <summary>Under cross-validation, all rows: the best parameter is refitted on them for the final model. Null for a holdout.</summary>
    public IDataView? RefitData { get; }

    /// <summary>
    /// Whether <see cref="Resample"/> can draw the split again under another seed: true for <see cref="Random"/> and
    /// <see cref="CrossValidation"/>, false for a given pair (<see cref="Holdout"/>).
    /// </summary>
    public bool CanResample => _resample is not null;

    /// <summary>The rows that may be held out (all rows, or the labelled ones when unlabelled rows stay in training); 0 for a given pair.</summary>
    public int HeldOutRowCount { get; }

    /// <summary>
    /// The same kind of split of the same rows (the same number of folds or the same validation share, unlabelled rows kept in
    /// training alike) under another seed: for scoring a parameter again on rows assigned differently, as the experiment's
    /// final re-evaluation does (<see cref="AutoMLExperiment.SetFinalReevaluation"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">The split is a given pair (<see cref="Holdout"/>), which cannot be drawn again.</exception>
    public DatasetSplit Resample(int seed) =>
        (_resample ?? throw new InvalidOperationException("A given training and validation pair (DatasetSplit.Holdout) cannot be drawn again under another seed; use Random or CrossValidation."))(seed);

    /// <summary>A given training set and validation set.</summary>
    public static DatasetSplit Holdout(IDataView train, IDataView validation)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        return new DatasetSplit([(train, validation)], null);
    }

    /// <summary>A random share of the rows held out for validation.</summary>
    /// <param name="data">All rows.</param>
    /// <param name="validationFraction">The share held out, in (0, 1).</param>
    /// <param name="seed">Seed of the permutation.</param>
    /// <param name="unlabeledStayInTraining">A label column whose missing values (NaN, missing key, empty text) mark rows that are never held out; null for none.</param>
    /// <exception cref="ArgumentException">The fraction is outside (0, 1), or fewer than two rows can be split.</exception>
    public static DatasetSplit Random(IDataView data, double validationFraction = 0.2, int seed = 0, string? unlabeledStayInTraining = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, $"validationFraction must lie in (0, 1), but is {validationFraction}.");
        var (eligible, rows) = Eligible(data, unlabeledStayInTraining);
        var order = Permute(eligible, seed);
        var held = Math.Clamp((int)Math.Round(validationFraction * order.Length), 1, order.Length - 1);
        var validation = new bool[rows];
        foreach (var i in order.Take(held)) validation[i] = true;
        return new DatasetSplit([Pair(data, validation)], null, other => Random(data, validationFraction, other, unlabeledStayInTraining), eligible.Count);
    }

    /// <summary>K folds: each trial fits K times and averages the metric; the final model is refitted on all rows.</summary>
    /// <exception cref="ArgumentException">Fewer than two folds, or fewer eligible rows than folds.</exception>
    public static DatasetSplit CrossValidation(IDataView data, int numberOfFolds = 5, int seed = 0, string? unlabeledStayInTraining = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(numberOfFolds, 2);
        var (eligible, rows) = Eligible(data, unlabeledStayInTraining);
        if (eligible.Count < numberOfFolds)
            throw new ArgumentOutOfRangeException(nameof(numberOfFolds), numberOfFolds, $"numberOfFolds ({numberOfFolds}) is larger than the number of rows that can be held out ({eligible.Count}).");
        var order = Permute(eligible, seed);
        var folds = new List<(IDataView, IDataView)>(numberOfFolds);
        for (var k = 0; k < numberOfFolds; k++)
        {
            var validation = new bool[rows];
            for (var p = k; p < order.Length; p += numberOfFolds) validation[order[p]] = true;
            folds.Add(Pair(data, validation));
        }
        return new DatasetSplit(folds, data, other => CrossValidation(data, numberOfFolds, other, unlabeledStayInTraining), eligible.Count);
    }

    private static (IDataView, IDataView) Pair(IDataView data, bool[] validation) =>
        (new RowSubsetDataView(data, [.. validation.Select(v => !v)]), new RowSubsetDataView(data, validation));

    private static int[] Permute(List<int> rows, int seed)
    {
        var order = rows.ToArray();
        var random = new System.Random(seed);
        for (var i = order.Length - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>The rows that may be held out (all, or those with a label) and the number of rows.</summary>
    private static (List<int> Eligible, int Rows) Eligible(IDataView data, string? labelColumnName)
    {
        var column = labelColumnName is null ? (DataViewSchema.Column?)null : data.Schema.GetColumnOrNull(labelColumnName)
            ?? throw new ArgumentException($"Label column '{labelColumnName}' was not found in the data.", nameof(labelColumnName));
        using var cursor = data.GetRowCursor(column is { } c ? [c] : []);
        Func<bool> hasLabel = () => true;
        if (column is { } label)
        {
            hasLabel = label.Type switch
            {
                KeyDataViewType => Present<uint>(cursor, label, v => v != 0),
                TextDataViewType => Present<ReadOnlyMemory<char>>(cursor, label, v => !v.Span.IsWhiteSpace()),
                _ when label.Type == NumberDataViewType.Single => Present<float>(cursor, label, v => !float.IsNaN(v)),
                _ when label.Type == NumberDataViewType.Double => Present<double>(cursor, label, v => !double.IsNaN(v)),
                _ when label.Type == BooleanDataViewType.Instance => () => true,
                _ => throw new ArgumentException($"Label column '{labelColumnName}' must be key, text, Single, Double or Boolean, but is {label.Type}.", nameof(labelColumnName)),
            };
        }
        var eligible = new List<int>();
        var rows = 0;
        while (cursor.MoveNext())
        {
            if (hasLabel()) eligible.Add(rows);
            rows++;
        }
        if (eligible.Count < 2) throw new ArgumentException($"The data have {eligible.Count} row(s) that can be held out; a split needs at least two.", nameof(data));
        return (eligible, rows);
    }

    private static Func<bool> Present<T>(DataViewRowCursor cursor, DataViewSchema.Column column, Func<T, bool> test)
    {
        var getter = cursor.GetGetter<T>(column);
        T value = default!;
        return () =>
        {
            getter(ref value);
            return test(value);
        };
    }
}
