using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.SemiSupervised;

/// <summary>
/// The rows a semi-supervised trainer fits on, in a canonical order that does not depend on the input order (so a fixed seed
/// gives the same model for any row order): standardised features, the known class of each labelled row and -1 for
/// unlabelled rows, and the class names.
/// </summary>
internal sealed class SemiSupervisedData
{
    private SemiSupervisedData(float[] features, int featureCount, int[] classes, int[] inputRow, string[] classNames, double[] mean, double[] sd, int constantFeatures)
    {
        Features = features;
        FeatureCount = featureCount;
        Classes = classes;
        InputRow = inputRow;
        ClassNames = classNames;
        Mean = mean;
        Sd = sd;
        ConstantFeatures = constantFeatures;
    }

    /// <summary>Standardised features, row-major, canonical order.</summary>
    public float[] Features { get; }

    public int FeatureCount { get; }

    public int RowCount => Classes.Length;

    /// <summary>0-based known class per row, or -1 for an unlabelled row.</summary>
    public int[] Classes { get; }

    /// <summary>The input row index of each canonical row.</summary>
    public int[] InputRow { get; }

    /// <summary>The known classes (those with labelled rows), in key order, numeric order or ordinal text order.</summary>
    public string[] ClassNames { get; }

    public int ClassCount => ClassNames.Length;

    /// <summary>Feature means and standard deviations over all rows (SD 1 for constant features).</summary>
    public double[] Mean { get; }

    public double[] Sd { get; }

    /// <summary>Number of features that are constant over all rows (centred to 0, carrying no information).</summary>
    public int ConstantFeatures { get; }

    public int[] LabeledRows => Enumerable.Range(0, RowCount).Where(i => Classes[i] >= 0).ToArray();

    public int[] UnlabeledRows => Enumerable.Range(0, RowCount).Where(i => Classes[i] < 0).ToArray();

    /// <summary>
    /// The columns a semi-supervised trainer reads: a label whose type has a missing value to mark unlabelled rows (key, Single,
    /// Double or text; not Boolean or integers), and numeric features.
    /// </summary>
    public static InputColumns Inputs(string labelColumn, string featureColumn) => new InputColumns()
        .Add("label", "LabelColumnName", labelColumn, ColumnTypes.Key | ColumnTypes.SingleOrDouble | ColumnTypes.Text,
            "a key, Single, Double or text scalar, which can mark unlabelled rows (the missing key, NaN, empty text)")
        .Features("FeatureColumnName", [featureColumn]);

    private static DataViewReader.Request Request(string labelColumn, string featureColumn) =>
        new([featureColumn], labelColumn, AllowMissingLabels: true);

    /// <summary>
    /// Reads the rows; <paramref name="standardise"/> tells whether the features are centred and scaled (mean and population
    /// SD over all rows) or kept as they are (mean 0, SD 1 are recorded), for methods that compare raw distances.
    /// </summary>
    public static SemiSupervisedData Read(IDataView data, string labelColumn, string featureColumn, CancellationToken cancellationToken, bool standardise = true)
    {
        var table = DataViewReader.Read(data, Request(labelColumn, featureColumn), cancellationToken);
        var (classes, names) = ReadClasses(table, data.Schema[labelColumn]);
        if (names.Length == 0)
        {
            throw new ArgumentException($"Label column '{labelColumn}' has no labelled rows: all {table.RowCount} labels are missing.", "LabelColumnName");
        }
        if (names.Length == 1)
        {
            throw new ArgumentException($"Label column '{labelColumn}' has labelled rows of one class only ('{names[0]}'); anchor scores need at least two known classes.", "LabelColumnName");
        }

        var p = table.FeatureCount;
        var order = CanonicalOrder(table.Features, p, classes);
        var features = new double[table.Features.Length];
        var canonicalClasses = new int[classes.Length];
        for (var r = 0; r < order.Length; r++)
        {
            Array.Copy(table.Features, order[r] * p, features, r * p, p);
            canonicalClasses[r] = classes[order[r]];
        }
        var (mean, sd) = Standardisation.Compute(features, p, Enumerable.Repeat(1.0, order.Length).ToArray(), null, out var constant);
        if (!standardise)
        {
            mean = new double[p];
            sd = Enumerable.Repeat(1.0, p).ToArray();
        }
        var standardised = new float[features.Length];
        for (var r = 0; r < order.Length; r++)
        {
            for (var j = 0; j < p; j++) standardised[r * p + j] = (float)((features[r * p + j] - mean[j]) / sd[j]);
        }
        return new SemiSupervisedData(standardised, p, canonicalClasses, order, names, mean, sd, constant.Count);
    }

    /// <summary>The standardised features as a [rows, p] float32 tensor.</summary>
    public Tensor FeatureTensor(Device device) => tensor(Features, [RowCount, FeatureCount], ScalarType.Float32, device);

    /// <summary>Class indices per row (-1 = unlabelled) and the names of the classes that have labelled rows.</summary>
    private static (int[] Classes, string[] Names) ReadClasses(TabularData table, DataViewSchema.Column column)
    {
        var classes = new int[table.RowCount];
        if (table.TextLabel is { } text)
        {
            var names = text.Where(t => !string.IsNullOrWhiteSpace(t)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            var index = names.Select((n, i) => (n, i)).ToDictionary(t => t.n, t => t.i, StringComparer.Ordinal);
            for (var i = 0; i < classes.Length; i++) classes[i] = string.IsNullOrWhiteSpace(text[i]) ? -1 : index[text[i]];
            return (classes, names);
        }
        var label = table.Label!;
        var present = label.Where(v => !double.IsNaN(v)).Distinct().Order().ToArray();
        var position = present.Select((v, i) => (v, i)).ToDictionary(t => t.v, t => t.i);
        for (var i = 0; i < classes.Length; i++) classes[i] = double.IsNaN(label[i]) ? -1 : position[label[i]];
        var keyNames = column.Type is KeyDataViewType key ? KeyClassNames.Read(column, (int)key.Count) : null;
        return (classes, present.Select(v => keyNames?[(int)v] ?? v.ToString(CultureInfo.InvariantCulture)).ToArray());
    }

    /// <summary>
    /// Rows sorted by a hash of their content (label, then features), ties by the content itself: identical data in any row
    /// order give the same sequence, and the sequence is well mixed.
    /// </summary>
    private static int[] CanonicalOrder(double[] features, int p, int[] classes)
    {
        var n = classes.Length;
        var hashes = new ulong[n];
        for (var i = 0; i < n; i++)
        {
            var h = Mix(0x9E3779B97F4A7C15UL ^ (ulong)(long)classes[i]);
            for (var j = 0; j < p; j++) h = Mix(h ^ (ulong)BitConverter.DoubleToInt64Bits(features[i * p + j] + 0.0));
            hashes[i] = h;
        }
        var order = Enumerable.Range(0, n).ToArray();
        Array.Sort(order, (a, b) =>
        {
            var c = hashes[a].CompareTo(hashes[b]);
            if (c != 0) return c;
            c = classes[a].CompareTo(classes[b]);
            for (var j = 0; c == 0 && j < p; j++) c = features[a * p + j].CompareTo(features[b * p + j]);
            return c;
        });
        return order;
    }

    // SplitMix64's finaliser: a fixed, well-mixing 64-bit hash step (string.GetHashCode and HashCode vary per process).
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
