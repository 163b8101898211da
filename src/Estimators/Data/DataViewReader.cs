using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Runtime;

namespace Microsoft.ML.PaperExtensions.Data;

/// <summary>
/// Reads features, a label and weights from an <see cref="IDataView"/> in one cursor pass over only those columns.
/// Non-finite values are reported per column with the number of rows they occur in; nothing is dropped.
/// </summary>
internal static class DataViewReader
{
    /// <summary>What to read. <see cref="FeatureColumns"/> may be empty (a label-only read).</summary>
    /// <param name="FeatureColumns">Columns concatenated, in order, into the feature matrix (Single or Double, scalar or known-size vector).</param>
    /// <param name="LabelColumn">The label column (key, Boolean, numeric or text), or null.</param>
    /// <param name="WeightColumn">The example-weight column, or null.</param>
    /// <param name="FeatureRole">How error messages call the feature columns (for example "time" or "score").</param>
    /// <param name="AllowNonFiniteFeatures">Whether NaN and infinite feature values are passed on instead of reported.</param>
    /// <param name="AllowMissingLabels">Whether missing labels (NaN, the missing key) are passed on as NaN instead of reported (semi-supervised data).</param>
    /// <param name="FeatureOption">The option that names the feature columns (the exception's parameter name).</param>
    /// <param name="LabelOption">The option that names the label column.</param>
    /// <param name="WeightOption">The option that names the weight column.</param>
    internal sealed record Request(IReadOnlyList<string> FeatureColumns, string? LabelColumn = null, string? WeightColumn = null,
        string FeatureRole = "feature", bool AllowNonFiniteFeatures = false, bool AllowMissingLabels = false,
        string FeatureOption = "FeatureColumnName", string LabelOption = "LabelColumnName", string WeightOption = "ExampleWeightColumnName");

    /// <summary>The label kind of a column's type.</summary>
    public static LabelKind KindOf(DataViewType type) => type switch
    {
        KeyDataViewType => LabelKind.Key,
        BooleanDataViewType => LabelKind.Boolean,
        NumberDataViewType => LabelKind.Numeric,
        TextDataViewType => LabelKind.Text,
        _ => LabelKind.None,
    };

    /// <summary>The feature layout of <paramref name="request"/> in <paramref name="schema"/> (the columns were checked by the estimator's <see cref="InputColumns"/>).</summary>
    public static IReadOnlyList<FeatureSlot> Layout(DataViewSchema schema, Request request)
    {
        var slots = new List<FeatureSlot>(request.FeatureColumns.Count);
        var offset = 0;
        foreach (var name in request.FeatureColumns)
        {
            var type = schema[name].Type;
            var width = type is VectorDataViewType v ? v.Size : 1;
            slots.Add(new FeatureSlot(name, offset, width));
            offset += width;
        }
        return slots;
    }

    /// <summary>Reads the requested columns.</summary>
    /// <exception cref="ArgumentException">The data are empty, or a column holds NaN, infinite or missing values.</exception>
    public static TabularData Read(IDataView data, Request request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var slots = Layout(data.Schema, request);
        var width = slots.Count == 0 ? 0 : slots[^1].Offset + slots[^1].Width;
        var schema = data.Schema;
        var needed = slots.Select(s => schema[s.ColumnName])
            .Concat(new[] { request.LabelColumn, request.WeightColumn }.OfType<string>().Select(n => schema[n]))
            .ToList();

        // Known row counts get one block of the exact size; a streaming source (TextLoader) fills blocks of 65,536 rows that
        // are copied once into the final arrays: no doubling, so no garbage of 1.5 to 3 times the data.
        var blockRows = (int)Math.Clamp(data.GetRowCount() ?? BlockRows, 1, int.MaxValue / Math.Max(1, width));
        var features = new Blocks<double>(blockRows, width);
        var labelKind = request.LabelColumn is null ? LabelKind.None : KindOf(schema[request.LabelColumn].Type);
        var label = labelKind is LabelKind.None or LabelKind.Text ? null : new Blocks<double>(blockRows, 1);
        var textLabel = labelKind == LabelKind.Text ? new Blocks<string>(blockRows, 1) : null;
        var weights = request.WeightColumn is null ? null : new Blocks<double>(blockRows, 1);

        var badRows = new int[slots.Count + 2];
        var firstBad = Enumerable.Repeat(-1, slots.Count + 2).ToArray();
        int labelIndex = slots.Count, weightIndex = slots.Count + 1;

        using var cursor = data.GetRowCursor(needed);
        var featureCopiers = slots.Select(s => MakeFeatureCopier(cursor, schema[s.ColumnName])).ToArray();
        var labelGetter = label is null ? null : MakeNumberGetter(cursor, schema[request.LabelColumn!]);
        var textGetter = textLabel is null ? null : cursor.GetGetter<ReadOnlyMemory<char>>(schema[request.LabelColumn!]);
        var weightGetter = weights is null ? null : MakeNumberGetter(cursor, schema[request.WeightColumn!]);
        var text = default(ReadOnlyMemory<char>);

        var row = 0;
        while (cursor.MoveNext())
        {
            if ((row & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
            var featureRow = features.Row(row);
            for (var j = 0; j < slots.Count; j++)
            {
                var slice = featureRow.Slice(slots[j].Offset, slots[j].Width);
                featureCopiers[j](slice);
                if (!request.AllowNonFiniteFeatures && !AllFinite(slice)) Flag(j, row);
            }
            if (labelGetter is not null)
            {
                var value = labelGetter();
                if (!double.IsFinite(value) && !(request.AllowMissingLabels && double.IsNaN(value))) Flag(labelIndex, row);
                label!.Row(row)[0] = value;
            }
            if (textGetter is not null)
            {
                textGetter(ref text);
                textLabel!.Row(row)[0] = text.ToString();
            }
            if (weightGetter is not null)
            {
                var value = weightGetter();
                if (!double.IsFinite(value) || value < 0) Flag(weightIndex, row);
                weights!.Row(row)[0] = value;
            }
            row++;
        }

        if (row == 0)
        {
            throw new ArgumentException("The training data have no rows.", nameof(data));
        }
        for (var j = 0; j < badRows.Length; j++)
        {
            if (badRows[j] == 0) continue;
            var (role, name, what, option) = j switch
            {
                _ when j < slots.Count => (char.ToUpperInvariant(request.FeatureRole[0]) + request.FeatureRole[1..], slots[j].ColumnName, "NaN or infinite values", request.FeatureOption),
                _ when j == labelIndex => ("Label", request.LabelColumn!, labelKind == LabelKind.Key ? "missing (out-of-range) key values"
                    : request.AllowMissingLabels ? "infinite values" : "NaN or infinite values", request.LabelOption),
                _ => ("Example weight", request.WeightColumn!, "NaN, infinite or negative values", request.WeightOption),
            };
            throw new DataValueException($"{role} column '{name}' has {what} in {badRows[j]} of {row} rows (first at row {firstBad[j]}).", option, name, firstBad[j], badRows[j]);
        }
        var table = new TabularData(row, slots, features.ToArray(row), label?.ToArray(row), textLabel?.ToArray(row), weights?.ToArray(row));
        // The blocks just copied are as large as the data: return their memory before the caller allocates more.
        LargeArrays.Release((long)row * (width + 2));
        return table;

        void Flag(int index, int r)
        {
            if (badRows[index]++ == 0) firstBad[index] = r;
        }
    }

    private const int BlockRows = 65_536;

    /// <summary>Rows of a fixed width stored in blocks, so that growing never copies; one copy makes the final array.</summary>
    private sealed class Blocks<T>(int blockRows, int width)
    {
        private readonly List<T[]> _blocks = [];

        public Span<T> Row(int row)
        {
            var block = row / blockRows;
            if (block == _blocks.Count) _blocks.Add(new T[checked(blockRows * width)]);
            return _blocks[block].AsSpan(row % blockRows * width, width);
        }

        public T[] ToArray(int rows)
        {
            if (_blocks.Count == 1 && _blocks[0].Length == rows * width) return _blocks[0];
            var result = new T[checked(rows * width)];
            for (var b = 0; b < _blocks.Count; b++)
            {
                var count = Math.Min(blockRows, rows - b * blockRows) * width;
                _blocks[b].AsSpan(0, count).CopyTo(result.AsSpan(b * blockRows * width));
                _blocks[b] = [];
            }
            return result;
        }
    }

    private static bool AllFinite(ReadOnlySpan<double> values)
    {
        foreach (var v in values)
        {
            if (!double.IsFinite(v)) return false;
        }
        return true;
    }

    private delegate void SpanCopier(Span<double> destination);

    private static SpanCopier MakeFeatureCopier(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        var isDouble = (column.Type is VectorDataViewType vector ? vector.ItemType : column.Type).RawType == typeof(double);
        if (column.Type is VectorDataViewType)
        {
            if (isDouble)
            {
                var getter = cursor.GetGetter<VBuffer<double>>(column);
                var buffer = default(VBuffer<double>);
                return destination => { getter(ref buffer); buffer.CopyTo(destination); };
            }
            var floatGetter = cursor.GetGetter<VBuffer<float>>(column);
            var floats = default(VBuffer<float>);
            var scratch = Array.Empty<float>();
            return destination =>
            {
                floatGetter(ref floats);
                if (scratch.Length != destination.Length) scratch = new float[destination.Length];
                floats.CopyTo(scratch);
                for (var i = 0; i < scratch.Length; i++) destination[i] = scratch[i];
            };
        }
        var scalar = MakeNumberGetter(cursor, column);
        return destination => destination[0] = scalar();
    }

    /// <summary>A getter that reads a numeric, Boolean or key column as double (keys as 0-based index; the missing key as NaN).</summary>
    private static Func<double> MakeNumberGetter(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        if (column.Type is KeyDataViewType key)
        {
            return key.RawType switch
            {
                var t when t == typeof(uint) => KeyGetter<uint>(cursor, column, v => v),
                var t when t == typeof(byte) => KeyGetter<byte>(cursor, column, v => v),
                var t when t == typeof(ushort) => KeyGetter<ushort>(cursor, column, v => v),
                _ => KeyGetter<ulong>(cursor, column, v => v),
            };
        }
        return column.Type.RawType switch
        {
            var t when t == typeof(float) => Getter<float>(cursor, column, v => v),
            var t when t == typeof(double) => Getter<double>(cursor, column, v => v),
            var t when t == typeof(bool) => Getter<bool>(cursor, column, v => v ? 1 : 0),
            var t when t == typeof(int) => Getter<int>(cursor, column, v => v),
            var t when t == typeof(long) => Getter<long>(cursor, column, v => v),
            var t when t == typeof(short) => Getter<short>(cursor, column, v => v),
            var t when t == typeof(sbyte) => Getter<sbyte>(cursor, column, v => v),
            var t when t == typeof(uint) => Getter<uint>(cursor, column, v => v),
            var t when t == typeof(ulong) => Getter<ulong>(cursor, column, v => v),
            var t when t == typeof(ushort) => Getter<ushort>(cursor, column, v => v),
            var t when t == typeof(byte) => Getter<byte>(cursor, column, v => v),
            _ => throw new InvalidOperationException($"Column '{column.Name}' of type {column.Type} cannot be read as a number."),
        };
    }

    private static Func<double> Getter<T>(DataViewRowCursor cursor, DataViewSchema.Column column, Func<T, double> convert)
    {
        var getter = cursor.GetGetter<T>(column);
        var value = default(T)!;
        return () => { getter(ref value); return convert(value); };
    }

    // ML.NET keys are 1-based with 0 meaning missing: 0 becomes NaN, which the caller reports.
    private static Func<double> KeyGetter<T>(DataViewRowCursor cursor, DataViewSchema.Column column, Func<T, ulong> convert)
    {
        var getter = cursor.GetGetter<T>(column);
        var value = default(T)!;
        return () => { getter(ref value); var k = convert(value); return k == 0 ? double.NaN : k - 1; };
    }
}

/// <summary>How a label column is read.</summary>
internal enum LabelKind
{
    /// <summary>No label.</summary>
    None,
    /// <summary>A key column; values are read as 0-based class indices.</summary>
    Key,
    /// <summary>A Boolean column; read as 0 or 1.</summary>
    Boolean,
    /// <summary>Any numeric scalar column; read as double.</summary>
    Numeric,
    /// <summary>A text column; read as strings.</summary>
    Text,
}
