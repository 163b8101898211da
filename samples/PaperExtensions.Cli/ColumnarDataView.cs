using Microsoft.ML;
using Microsoft.ML.Data;

namespace PaperExtensions.Cli;

/// <summary>An in-memory IDataView of named Double columns, for CSV columns whose names are only known at run time.</summary>
internal sealed class ColumnarDataView : IDataView
{
    private readonly double[][] _columns;

    public ColumnarDataView(IReadOnlyList<string> names, double[][] columns)
    {
        var builder = new DataViewSchema.Builder();
        foreach (var name in names) builder.AddColumn(name, NumberDataViewType.Double);
        Schema = builder.ToSchema();
        _columns = columns;
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _columns.Length == 0 ? 0 : _columns[0].Length;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [new Cursor(this)];

    private sealed class Cursor(ColumnarDataView view) : DataViewRowCursor
    {
        private long _position = -1;

        public override DataViewSchema Schema => view.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool MoveNext() => ++_position < view.GetRowCount();

        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (typeof(TValue) != typeof(double)) throw new InvalidOperationException($"Column '{column.Name}' is Double, not {typeof(TValue).Name}.");
            var values = view._columns[column.Index];
            ValueGetter<double> getter = (ref double value) => value = values[_position];
            return (ValueGetter<TValue>)(Delegate)getter;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);
    }
}
