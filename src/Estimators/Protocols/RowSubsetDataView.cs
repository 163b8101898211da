using Microsoft.ML.Data;

namespace Microsoft.ML.PaperExtensions.Protocols;

/// <summary>
/// The rows of a source view whose index is in a set, in source order, optionally with the label of some rows replaced by the
/// missing value of its type (NaN, the missing key 0, or empty text): a semi-supervised training set made from labelled data.
/// </summary>
internal sealed class RowSubsetDataView : IDataView
{
    private readonly IDataView _source;
    private readonly bool[] _keep;
    private readonly bool[] _hideLabel;
    private readonly int _labelIndex;

    public RowSubsetDataView(IDataView source, bool[] keep, bool[]? hideLabel = null, string? labelColumnName = null)
    {
        _source = source;
        _keep = keep;
        _hideLabel = hideLabel ?? new bool[keep.Length];
        _labelIndex = labelColumnName is null ? -1 : source.Schema[labelColumnName].Index;
        if (_labelIndex >= 0)
        {
            var type = source.Schema[_labelIndex].Type;
            if (!(type is KeyDataViewType or TextDataViewType || type == NumberDataViewType.Single || type == NumberDataViewType.Double))
            {
                throw new ArgumentException($"Label column '{labelColumnName}' must be Single, Double, key or text to hold a missing label, but is {type}.", nameof(labelColumnName));
            }
        }
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema => _source.Schema;

    public long? GetRowCount() => _keep.Count(k => k);

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(this, _source.GetRowCursor(columnsNeeded.Concat(_labelIndex >= 0 ? [_source.Schema[_labelIndex]] : []).Distinct()));

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor(RowSubsetDataView view, DataViewRowCursor source) : DataViewRowCursor
    {
        private long _position = -1;
        private long _sourceRow = -1;

        public override DataViewSchema Schema => view.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool MoveNext()
        {
            while (source.MoveNext())
            {
                _sourceRow++;
                if (_sourceRow >= view._keep.Length)
                {
                    throw new InvalidOperationException($"The data have more rows than the split covers ({view._keep.Length}).");
                }
                if (view._keep[_sourceRow])
                {
                    _position++;
                    return true;
                }
            }
            return false;
        }

        public override bool IsColumnActive(DataViewSchema.Column column) => source.IsColumnActive(column);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            var getter = source.GetGetter<TValue>(column);
            if (column.Index != view._labelIndex) return getter;
            var missing = Missing<TValue>(column.Type);
            return (ref TValue value) =>
            {
                if (view._hideLabel[_sourceRow]) value = missing;
                else getter(ref value);
            };
        }

        private static TValue Missing<TValue>(DataViewType type) => type switch
        {
            KeyDataViewType => default!,
            TextDataViewType => (TValue)(object)ReadOnlyMemory<char>.Empty,
            _ when typeof(TValue) == typeof(float) => (TValue)(object)float.NaN,
            _ => (TValue)(object)double.NaN,
        };

        public override ValueGetter<DataViewRowId> GetIdGetter() => source.GetIdGetter();

        protected override void Dispose(bool disposing)
        {
            if (disposing) source.Dispose();
            base.Dispose(disposing);
        }
    }
}
