using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;
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

    public static OrdinalTrainingData Read(IDataView data, string labelColumn, string featureColumn, string? weightColumn, RareClassPosition rareClass, CancellationToken cancellationToken)
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

    /// <summary>The standardised features of <paramref name="rows"/> (all when null) as a [rows, p] float64 tensor.</summary>
    public Tensor Standardised(IReadOnlyList<int>? rows, double[] mean, double[] sd, Device device)
    {
        int p = FeatureCount;
        var all = rows ?? Enumerable.Range(0, RowCount).ToArray();
        var values = new double[all.Count * p];
        var x = Table.Features;
        for (var r = 0; r < all.Count; r++)
        {
            var source = all[r] * p;
            for (var j = 0; j < p; j++) values[r * p + j] = (x[source + j] - mean[j]) / sd[j];
        }
        return tensor(values, [all.Count, p], ScalarType.Float64, device);
    }
}
