using Microsoft.ML.Data;

namespace Microsoft.ML.PaperExtensions.Onnx;

/// <summary>
/// A cursor over a source view's rows plus output columns computed a block of rows at a time. One cursor (<see cref="Lead"/>)
/// reads the inputs ahead by a block; a second stays on the current row for the source's own columns, so no value of the
/// source has to be copied or kept. Subclasses fill a block and read one row's outputs from it.
/// </summary>
internal abstract class BlockCursor : DataViewRowCursor
{
    private readonly IDataView _source;
    private readonly DataViewSchema _schema;
    private readonly Func<string, bool> _isOutput;
    private readonly HashSet<int> _active;
    private readonly DataViewRowCursor? _follow;
    private int _rows;
    private long _position = -1;

    /// <param name="source">The source view.</param>
    /// <param name="schema">The view's schema: the source's columns and the outputs.</param>
    /// <param name="needed">The columns the caller asked for.</param>
    /// <param name="isOutput">Whether a column name is one of the computed outputs.</param>
    /// <param name="inputs">The source columns the outputs are computed from (read only when an output is needed).</param>
    protected BlockCursor(IDataView source, DataViewSchema schema, IReadOnlyList<DataViewSchema.Column> needed, Func<string, bool> isOutput, IReadOnlyList<DataViewSchema.Column> inputs)
    {
        _source = source;
        _schema = schema;
        _isOutput = isOutput;
        _active = needed.Select(c => c.Index).ToHashSet();
        bool computing = needed.Any(c => isOutput(c.Name));
        if (computing) Lead = source.GetRowCursor(inputs);
        var passthrough = needed.Where(c => !isOutput(c.Name)).Select(c => source.Schema[c.Name]).ToList();
        if (passthrough.Count > 0 || !computing) _follow = source.GetRowCursor(passthrough);
    }

    /// <summary>The cursor that reads the inputs a block ahead; null when no output is needed.</summary>
    protected DataViewRowCursor? Lead { get; }

    /// <summary>The current row's index within the block.</summary>
    protected int Row { get; private set; } = -1;

    /// <summary>Reads up to a block of rows from <see cref="Lead"/> and computes their outputs; returns how many rows it read (0 at the end).</summary>
    protected abstract int NextBlock();

    /// <summary>A <c>ValueGetter</c> of an output column for the current <see cref="Row"/>.</summary>
    protected abstract Delegate OutputGetter(DataViewSchema.Column column);

    public override DataViewSchema Schema => _schema;

    public override long Position => _position;

    public override long Batch => 0;

    public override bool MoveNext()
    {
        if (Lead is not null && ++Row >= _rows)
        {
            _rows = NextBlock();
            if (_rows == 0) return false;
            Row = 0;
        }
        if (_follow is not null && !_follow.MoveNext()) return false;
        _position++;
        return true;
    }

    public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
        _isOutput(column.Name) ? (ValueGetter<TValue>)OutputGetter(column) : _follow!.GetGetter<TValue>(_source.Schema[column.Name]);

    public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Lead?.Dispose();
            _follow?.Dispose();
        }
        base.Dispose(disposing);
    }
}
