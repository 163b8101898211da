using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;

namespace Microsoft.ML.PaperExtensions.FineTuning;

/// <summary>
/// The training texts and labels, read in one cursor pass: classes as 0-based indices with their names (a key's key values,
/// or text labels in order of first appearance), or numbers standardised for training.
/// </summary>
internal sealed class FineTuningData
{
    private FineTuningData(List<string> texts, List<string>? pairs, float[] targets, IReadOnlyList<string> classNames, (double Mean, double Scale) targetScale)
    {
        Texts = texts;
        Pairs = pairs;
        Targets = targets;
        ClassNames = classNames;
        TargetScale = targetScale;
    }

    public IReadOnlyList<string> Texts { get; }

    public IReadOnlyList<string>? Pairs { get; }

    /// <summary>Class indices, or standardised numbers.</summary>
    public float[] Targets { get; }

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Mean and standard deviation of a numeric label (0 and 1 for classes).</summary>
    public (double Mean, double Scale) TargetScale { get; }

    /// <exception cref="DataValueException">A label is missing (NaN, missing key, empty text); the message names the column and the first row.</exception>
    /// <exception cref="ArgumentException">One class only, a constant number, or every text empty.</exception>
    public static FineTuningData Read(IDataView data, string textColumn, string? pairColumn, string labelColumn, bool regression, CancellationToken cancellationToken)
    {
        var (texts, pairs, values, classNames) = ReadRows(data, textColumn, pairColumn, labelColumn, regression, cancellationToken);
        if (texts.Count == 0) throw new ArgumentException("The training data has no rows.", nameof(data));
        if (texts.All(t => t.Length == 0) && (pairs is null || pairs.All(t => t.Length == 0)))
            throw new ArgumentException($"Every text of column '{textColumn}' is empty: there is nothing to learn from.", nameof(data));
        if (regression)
        {
            double mean = values.Average(v => (double)v), sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Length);
            if (sd == 0) throw new ArgumentException($"Label column '{labelColumn}' holds one value ({mean}) in every row: there is nothing to learn.", nameof(data));
            return new FineTuningData(texts, pairs, Standardise(values, mean, sd), [], (mean, sd));
        }
        if (values.Distinct().Count() < 2)
            throw new ArgumentException($"Label column '{labelColumn}' holds one class ('{classNames[(int)values[0]]}') in all {texts.Count} rows; a classifier needs at least two.", nameof(data));
        return new FineTuningData(texts, pairs, values, classNames, (0, 1));
    }

    /// <summary>Validation rows, with the training data's classes (by name) or its standardisation.</summary>
    /// <exception cref="ArgumentException">A validation class that the training data lacks, or no rows.</exception>
    public static FineTuningData ReadValidation(IDataView data, FineTuningData training, string textColumn, string? pairColumn, string labelColumn, bool regression,
        CancellationToken cancellationToken)
    {
        var (texts, pairs, values, classNames) = ReadRows(data, textColumn, pairColumn, labelColumn, regression, cancellationToken);
        if (texts.Count == 0) throw new ArgumentException("The validation set has no rows.", "ValidationSet");
        if (regression) return new FineTuningData(texts, pairs, Standardise(values, training.TargetScale.Mean, training.TargetScale.Scale), [], training.TargetScale);
        var index = training.ClassNames.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        var mapped = values.Select(v => index.TryGetValue(classNames[(int)v], out var i) ? (float)i
            : throw new ArgumentException($"The validation set's label '{classNames[(int)v]}' is not among the training classes ({string.Join(", ", training.ClassNames)}).", "ValidationSet")).ToArray();
        return new FineTuningData(texts, pairs, mapped, training.ClassNames, training.TargetScale);
    }

    private static float[] Standardise(float[] values, double mean, double scale) => values.Select(v => (float)((v - mean) / scale)).ToArray();

    private static (List<string> Texts, List<string>? Pairs, float[] Values, IReadOnlyList<string> ClassNames) ReadRows(IDataView data, string textColumn, string? pairColumn,
        string labelColumn, bool regression, CancellationToken cancellationToken)
    {
        var schema = data.Schema;
        var label = schema[labelColumn];
        var columns = new[] { textColumn, pairColumn, labelColumn }.OfType<string>().Select(n => schema[n]).Distinct().ToList();
        using var cursor = data.GetRowCursor(columns);
        var text = cursor.GetGetter<ReadOnlyMemory<char>>(schema[textColumn]);
        var pair = pairColumn is null ? null : cursor.GetGetter<ReadOnlyMemory<char>>(schema[pairColumn]);
        Func<long, double> readLabel = LabelReader(cursor, label, regression, labelColumn, out var classNames);
        var texts = new List<string>();
        var pairs = pairColumn is null ? null : new List<string>();
        var targets = new List<float>();
        var value = default(ReadOnlyMemory<char>);
        long row = 0;
        while (cursor.MoveNext())
        {
            if ((row & 1023) == 0) cancellationToken.ThrowIfCancellationRequested();
            text(ref value);
            texts.Add(value.ToString());
            if (pair is not null)
            {
                pair(ref value);
                pairs!.Add(value.ToString());
            }
            targets.Add((float)readLabel(row));
            row++;
        }
        return (texts, pairs, targets.ToArray(), classNames());
    }

    /// <summary>A reader of the current row's label: a class index (0-based) or a number.</summary>
    private static Func<long, double> LabelReader(DataViewRowCursor cursor, DataViewSchema.Column label, bool regression, string labelColumn, out Func<IReadOnlyList<string>> classNames)
    {
        Exception Missing(long row) => new DataValueException($"Label column '{labelColumn}' has a missing value in row {row}; every training text needs a label.", "LabelColumnName", labelColumn, row, 1);
        if (regression)
        {
            classNames = () => [];
            if (label.Type == NumberDataViewType.Single)
            {
                var single = cursor.GetGetter<float>(label);
                float v = 0;
                return row => { single(ref v); return float.IsFinite(v) ? v : throw Missing(row); };
            }
            var number = cursor.GetGetter<double>(label);
            double d = 0;
            return row => { number(ref d); return double.IsFinite(d) ? d : throw Missing(row); };
        }
        if (label.Type is KeyDataViewType key)
        {
            var names = KeyClassNames.Read(label, (int)key.Count);
            classNames = () => names;
            var getter = cursor.GetGetter<uint>(label);
            uint k = 0;
            return row => { getter(ref k); return k > 0 ? k - 1 : throw Missing(row); };
        }
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var order = new List<string>();
        classNames = () => order;
        var textGetter = cursor.GetGetter<ReadOnlyMemory<char>>(label);
        var value = default(ReadOnlyMemory<char>);
        return row =>
        {
            textGetter(ref value);
            if (value.IsEmpty) throw Missing(row);
            var name = value.ToString();
            if (!seen.TryGetValue(name, out var index))
            {
                index = seen[name] = order.Count;
                order.Add(name);
            }
            return index;
        };
    }
}
