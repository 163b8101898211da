using Microsoft.ML;
using Microsoft.ML.Data;

namespace PaperExtensions.Cli;

/// <summary>
/// A TextLoader view whose numeric columns are checked against their text as rows are read: a field that is no number is
/// an error naming the file, line, column and value; an empty field is an error too, or NaN when empty means missing.
/// (TextLoader alone reads a word as NaN and an empty last field as 0.)
/// </summary>
internal sealed class ValidatingDataView : IDataView
{
    private readonly IDataView _source;
    private readonly CsvSource _file;
    private readonly IReadOnlyCollection<string> _emptyIsMissing;

    public ValidatingDataView(IDataView source, CsvSource file, IReadOnlyCollection<string> emptyIsMissing)
    {
        _source = source;
        _file = file;
        _emptyIsMissing = emptyIsMissing;
        var builder = new DataViewSchema.Builder();
        foreach (var column in source.Schema.Where(c => !IsShadow(c.Name))) builder.AddColumn(column.Name, column.Type, column.Annotations);
        Schema = builder.ToSchema();
    }

    /// <summary>The name of the text column that shadows a numeric one.</summary>
    public static string TextShadow(string name) => name + "\u0001text";

    private static bool IsShadow(string name) => name.EndsWith("\u0001text", StringComparison.Ordinal);

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.Select(c => _source.Schema[c.Name]).ToList();
        var shadows = needed.Select(c => _source.Schema.GetColumnOrNull(TextShadow(c.Name))).OfType<DataViewSchema.Column>().ToList();
        return new Cursor(this, _source.GetRowCursor(needed.Concat(shadows)));
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor(ValidatingDataView view, DataViewRowCursor source) : DataViewRowCursor
    {
        public override DataViewSchema Schema => view.Schema;

        public override long Position => source.Position;

        public override long Batch => 0;

        public override bool MoveNext() => source.MoveNext();

        public override bool IsColumnActive(DataViewSchema.Column column) => source.IsColumnActive(source.Schema[column.Name]);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            var sourceColumn = source.Schema[column.Name];
            var getter = source.GetGetter<TValue>(sourceColumn);
            if (source.Schema.GetColumnOrNull(TextShadow(column.Name)) is not { } shadow) return getter;
            var text = source.GetGetter<ReadOnlyMemory<char>>(shadow);
            var field = default(ReadOnlyMemory<char>);
            if (typeof(TValue) == typeof(float))
            {
                var floats = (ValueGetter<float>)(Delegate)getter;
                ValueGetter<float> checkedFloat = (ref float value) =>
                {
                    floats(ref value);
                    if (float.IsNaN(value) || value == 0) value = (float)Check(value, column.Name, text, ref field);
                };
                return (ValueGetter<TValue>)(Delegate)checkedFloat;
            }
            var doubles = (ValueGetter<double>)(Delegate)getter;
            ValueGetter<double> checkedDouble = (ref double value) =>
            {
                doubles(ref value);
                if (double.IsNaN(value) || value == 0) value = Check(value, column.Name, text, ref field);
            };
            return (ValueGetter<TValue>)(Delegate)checkedDouble;
        }

        /// <summary>The value a NaN or 0 really stands for: itself, NaN for an empty field that may be missing, or an error.</summary>
        private double Check(double value, string column, ValueGetter<ReadOnlyMemory<char>> text, ref ReadOnlyMemory<char> field)
        {
            text(ref field);
            var span = field.Span.Trim();
            if (span.IsEmpty)
            {
                if (view._emptyIsMissing.Contains(column)) return double.NaN;
                var line = view._file.Locate(Position, column).Line;
                throw new FormatException($"{view._file.Path}, line {line}: column '{column}' is empty; missing values are not allowed here (--drop-missing skips such rows where the command has it).");
            }
            if (!CsvSource.IsNumber(span.ToString()))
            {
                var line = view._file.Locate(Position, column).Line;
                throw new FormatException($"{view._file.Path}, line {line}: column '{column}' holds '{field}', which is not a number.");
            }
            return value;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => source.GetIdGetter();

        protected override void Dispose(bool disposing)
        {
            if (disposing) source.Dispose();
            base.Dispose(disposing);
        }
    }
}
