using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;
using Microsoft.ML.PaperExtensions.Runtime;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Ordinal;

/// <summary>
/// The rows an ordinal trainer fits on: features (original scale), 0-based classes in the internal order (rare class
/// last), weights, and the class names in label order.
/// </summary>
internal sealed class OrdinalTrainingData
{
    private OrdinalTrainingData(TabularData table, long[] classes, string[] classNames, string labelColumn)
    {
        Table = table;
        Classes = classes;
        ClassNames = classNames;
        LabelColumn = labelColumn;
        Weights = table.Weights ?? Enumerable.Repeat(1.0, table.RowCount).ToArray();
    }

    public TabularData Table { get; }

    public int RowCount => Table.RowCount;

    public int FeatureCount => Table.FeatureCount;

    /// <summary>Class per row, internal order (0-based, the rare class is K-1).</summary>
    public long[] Classes { get; }

    public string[] ClassNames { get; }

    public string LabelColumn { get; }

    public double[] Weights { get; }

    public int ClassCount => ClassNames.Length;

    public static OrdinalTrainingData Read(IDataView data, string labelColumn, string featureColumn, string? weightColumn, RareClassPosition rareClass,
        IReadOnlyList<string>? classOrder, CancellationToken cancellationToken)
    {
        var table = DataViewReader.Read(data, new DataViewReader.Request([featureColumn], labelColumn, weightColumn), cancellationToken);
        var labelType = data.Schema[labelColumn].Type;
        var label = table.Label!;
        string[] names;
        long[] classes;
        if (labelType is KeyDataViewType key)
        {
            names = KeyClassNames.Read(data.Schema[labelColumn], (int)key.Count);
            classes = label.Select(v => (long)v).ToArray();
            var counts = new int[names.Length];
            foreach (var c in classes) counts[c]++;
            var empty = Enumerable.Range(0, names.Length).Where(k => counts[k] == 0).Select(k => $"'{names[k]}'").ToList();
            if (empty.Count > 0)
            {
                throw new ArgumentException($"Label column '{labelColumn}' declares {names.Length} classes, but class {string.Join(", ", empty)} has no rows in the training data.", "LabelColumnName");
            }
        }
        else
        {
            var distinct = label.Distinct().Order().ToArray();
            names = distinct.Select(v => labelType is BooleanDataViewType ? (v == 1).ToString() : v.ToString(CultureInfo.InvariantCulture)).ToArray();
            var index = distinct.Select((v, i) => (v, i)).ToDictionary(t => t.v, t => (long)t.i);
            classes = label.Select(v => index[v]).ToArray();
        }
        if (classOrder is not null)
        {
            (classes, names) = Reorder(classes, names, classOrder, labelColumn);
        }
        else if (labelType is KeyDataViewType && UnorderedKeys(names) is { } reason)
        {
            throw new ArgumentException($"Label column '{labelColumn}' is a key whose key values are in the order {string.Join(", ", names)}, but {reason}: " +
                "an ordinal model takes the key order as the class order, and ML.NET's MapValueToKey orders keys by first appearance unless told otherwise. " +
                "Make the key with MapValueToKey(..., keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue) or give the order in ClassOrder.", "LabelColumnName");
        }
        if (names.Length < 2)
        {
            throw new ArgumentException($"Label column '{labelColumn}' has only one class ('{names[0]}') in the training data; an ordinal model needs at least two.", "LabelColumnName");
        }
        if (rareClass == RareClassPosition.First)
        {
            var last = names.Length - 1;
            classes = classes.Select(c => last - c).ToArray();
        }
        return new OrdinalTrainingData(table, classes, names, labelColumn);
    }

    /// <summary>Class indices and names in the order of <paramref name="order"/> (names of key values or numbers as text).</summary>
    private static (long[] Classes, string[] Names) Reorder(long[] classes, string[] names, IReadOnlyList<string> order, string labelColumn)
    {
        var position = order.Select((name, i) => (name, i)).ToDictionary(t => t.name, t => (long)t.i, StringComparer.Ordinal);
        var missing = names.Where(n => !position.ContainsKey(n)).ToList();
        if (missing.Count > 0)
        {
            throw new ArgumentException($"ClassOrder ({string.Join(", ", order)}) does not list class {string.Join(", ", missing.Select(m => $"'{m}'"))} of label column '{labelColumn}'.", "ClassOrder");
        }
        var absent = order.Where(n => !names.Contains(n)).ToList();
        if (absent.Count > 0)
        {
            throw new ArgumentException($"ClassOrder lists {string.Join(", ", absent.Select(a => $"'{a}'"))}, which label column '{labelColumn}' does not have in the training data (classes: {string.Join(", ", names)}).", "ClassOrder");
        }
        return (classes.Select(c => position[names[c]]).ToArray(), order.ToArray());
    }

    /// <summary>Ordered scales whose words give away the intended order of text classes.</summary>
    private static readonly string[][] KnownScales =
    [
        ["very low", "low", "medium", "high", "very high"], ["low", "mid", "high"], ["xs", "s", "m", "l", "xl"], ["small", "medium", "large"],
        ["poor", "fair", "good", "very good", "excellent"], ["never", "rarely", "sometimes", "often", "always"],
        ["strongly disagree", "disagree", "neutral", "agree", "strongly agree"], ["none", "mild", "moderate", "severe"],
        ["first", "second", "third", "fourth", "fifth"],
    ];

    /// <summary>Why key values look like classes out of order (numbers not ascending, or words of a known scale out of its order), or null.</summary>
    private static string? UnorderedKeys(string[] names)
    {
        var numbers = names.Select(n => double.TryParse(n, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : (double?)null).ToList();
        if (numbers.All(v => v is not null))
        {
            return numbers.Zip(numbers.Skip(1)).All(p => p.First < p.Second) ? null : "they are numbers out of ascending order";
        }
        var lower = names.Select(n => n.Trim().ToLowerInvariant()).ToArray();
        foreach (var scale in KnownScales)
        {
            var positions = lower.Select(n => Array.IndexOf(scale, n)).ToArray();
            if (positions.All(p => p >= 0) && !positions.Zip(positions.Skip(1)).All(p => p.First < p.Second))
            {
                return $"they are words of the ordered scale {string.Join(" < ", scale)} out of that order";
            }
        }
        return null;
    }

    /// <summary>Weighted means and population SDs per feature; throws naming the column and slot of a constant feature.</summary>
    public (double[] Mean, double[] Sd) Standardisation(IReadOnlyList<int>? rows, bool constantIsError)
    {
        var (mean, sd) = Data.Standardisation.Compute(Table.Features, FeatureCount, Weights, rows, out var constant);
        if (constantIsError && constant.Count > 0)
        {
            var j = constant[0];
            var slot = Table.FeatureSlots.Single(s => j >= s.Offset && j < s.Offset + s.Width);
            throw new ArgumentException($"Feature column '{slot.ColumnName}' is constant in slot {j - slot.Offset} (every row is {mean[j].ToString(CultureInfo.InvariantCulture)}); remove that feature.", "FeatureColumnName");
        }
        return (mean, sd);
    }

    /// <summary>
    /// The design of <paramref name="rows"/> (all when null) as a [rows, p + 1] float64 tensor: a column of ones, then the
    /// standardised features. Built once in managed memory and adopted by the tensor, so it exists once.
    /// </summary>
    public Tensor Design(IReadOnlyList<int>? rows, double[] mean, double[] sd, Device device)
    {
        int p = FeatureCount, q = p + 1;
        var all = rows ?? Enumerable.Range(0, RowCount).ToArray();
        var values = new double[all.Count * q];
        var x = Table.Features;
        for (var r = 0; r < all.Count; r++)
        {
            var source = all[r] * p;
            values[r * q] = 1;
            for (var j = 0; j < p; j++) values[r * q + 1 + j] = (x[source + j] - mean[j]) / sd[j];
        }
        return TensorCopy.Adopt(values, device, all.Count, q);
    }
}
