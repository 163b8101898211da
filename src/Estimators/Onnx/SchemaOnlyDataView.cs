using Microsoft.ML.Data;

namespace Microsoft.ML.PaperExtensions.Onnx;

/// <summary>An <see cref="IDataView"/> with a schema and no rows, for fitting estimators that only read the schema.</summary>
internal sealed class SchemaOnlyDataView(DataViewSchema schema) : IDataView
{
    public bool CanShuffle => false;

    public DataViewSchema Schema => schema;

    public long? GetRowCount() => 0;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new EmptyCursor(schema);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [new EmptyCursor(schema)];

    private sealed class EmptyCursor(DataViewSchema schema) : DataViewRowCursor
    {
        public override DataViewSchema Schema => schema;

        public override long Position => -1;

        public override long Batch => 0;

        public override bool MoveNext() => false;

        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
            throw new InvalidOperationException("A schema-only data view has no rows to read.");

        public override ValueGetter<DataViewRowId> GetIdGetter() =>
            throw new InvalidOperationException("A schema-only data view has no rows to read.");
    }
}
