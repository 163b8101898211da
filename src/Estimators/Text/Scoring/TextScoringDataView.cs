using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.PaperExtensions.Onnx;

namespace Microsoft.ML.PaperExtensions.Text;

/// <summary>
/// The rows of a source view with a text model's outputs, computed a block of texts at a time: tokenized with padding to the
/// block's longest text, run through the batched graph in one ONNX Runtime call (or the TorchSharp encoder). Schema, types
/// and key values are the saved chain's. One cursor reads the texts ahead by a block; a second stays on the current row for
/// the source's own columns.
/// </summary>
internal sealed class TextScoringDataView : IDataView
{
    private readonly IDataView _source;
    private readonly TextScorer _scorer;
    private readonly Dictionary<string, PredictionColumn> _outputs;

    public TextScoringDataView(IDataView source, TextScorer scorer, DataViewSchema chainSchema)
    {
        _source = source;
        _scorer = scorer;
        _outputs = scorer.Outputs.ToDictionary(o => o.Name);
        Schema = chainSchema;
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this, columnsNeeded.ToList());

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly TextScoringDataView _view;
        private readonly HashSet<int> _active;
        private readonly DataViewRowCursor? _lead;
        private readonly ValueGetter<ReadOnlyMemory<char>>? _text;
        private readonly ValueGetter<ReadOnlyMemory<char>>? _pair;
        private readonly DataViewRowCursor? _follow;
        private readonly string[] _texts;
        private readonly string[]? _pairs;
        private Dictionary<string, float[]> _values = [];
        private int _rows;
        private int _row = -1;
        private long _position = -1;

        public Cursor(TextScoringDataView view, IReadOnlyList<DataViewSchema.Column> needed)
        {
            _view = view;
            _active = needed.Select(c => c.Index).ToHashSet();
            var settings = view._scorer.Settings;
            _texts = new string[settings.BatchSize];
            if (needed.Any(c => view._outputs.ContainsKey(c.Name)))
            {
                var columns = new[] { settings.InputColumnName, settings.PairColumnName }.OfType<string>().Select(n => view._source.Schema[n]).ToList();
                _lead = view._source.GetRowCursor(columns);
                _text = _lead.GetGetter<ReadOnlyMemory<char>>(columns[0]);
                if (settings.PairColumnName is not null)
                {
                    _pair = _lead.GetGetter<ReadOnlyMemory<char>>(columns[1]);
                    _pairs = new string[settings.BatchSize];
                }
            }
            var passthrough = needed.Where(c => !view._outputs.ContainsKey(c.Name)).Select(c => view._source.Schema[c.Name]).ToList();
            if (passthrough.Count > 0 || _lead is null) _follow = view._source.GetRowCursor(passthrough);
        }

        public override DataViewSchema Schema => _view.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool MoveNext()
        {
            if (_lead is not null && ++_row >= _rows)
            {
                if (!NextBlock()) return false;
                _row = 0;
            }
            if (_follow is not null && !_follow.MoveNext()) return false;
            _position++;
            return true;
        }

        private bool NextBlock()
        {
            var value = default(ReadOnlyMemory<char>);
            _rows = 0;
            while (_rows < _texts.Length && _lead!.MoveNext())
            {
                _text!(ref value);
                _texts[_rows] = value.ToString();
                if (_pair is not null)
                {
                    _pair(ref value);
                    _pairs![_rows] = value.ToString();
                }
                _rows++;
            }
            if (_rows == 0) return false;
            var scorer = _view._scorer;
            var tokens = scorer.Tokenizer.EncodeBatch(_texts[.._rows], _pairs?[.._rows], scorer.Settings.MaxSequenceLength);
            _values = scorer.Torch is { } torch ? new() { [scorer.Outputs[0].Name] = torch.Embed(tokens) } : RunOnnx(scorer, tokens);
            return true;
        }

        private static Dictionary<string, float[]> RunOnnx(TextScorer scorer, TokenBatch tokens)
        {
            long[] shape = [tokens.Rows, tokens.Length];
            using var ids = OrtValue.CreateTensorValueFromMemory(tokens.InputIds, shape);
            using var mask = OrtValue.CreateTensorValueFromMemory(tokens.AttentionMask, shape);
            using var types = OrtValue.CreateTensorValueFromMemory(tokens.TokenTypeIds, shape);
            using var options = new RunOptions();
            var names = scorer.Outputs.Select(o => o.Name == scorer.Settings.OutputColumnName && scorer.Settings.Head is null ? BertOnnxGraph.Embedding : o.Name).ToArray();
            using var outputs = scorer.Session.Run(options, [BertOnnxGraph.InputIds, BertOnnxGraph.AttentionMask, BertOnnxGraph.TokenTypeIds], [ids, mask, types], names);
            return scorer.Outputs.Select((o, k) => (o.Name, Values: outputs[k].GetTensorDataAsSpan<float>().ToArray())).ToDictionary(p => p.Name, p => p.Values);
        }

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!_view._outputs.TryGetValue(column.Name, out var output))
                return _follow!.GetGetter<TValue>(_view._source.Schema[column.Name]);
            Delegate getter = output.Kind switch
            {
                PredictionKind.Vector => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
                {
                    int width = ((VectorDataViewType)column.Type).Size;
                    var editor = VBufferEditor.Create(ref value, width);
                    _values[column.Name].AsSpan(_row * width, width).CopyTo(editor.Values);
                    value = editor.Commit();
                }),
                PredictionKind.Scalar => (ValueGetter<float>)((ref float value) => value = _values[column.Name][_row]),
                _ => (ValueGetter<uint>)((ref uint value) =>
                {
                    float index = _values[column.Name][_row];
                    value = index >= 1 && index <= ((KeyDataViewType)column.Type).Count ? (uint)index : 0;
                }),
            };
            return (ValueGetter<TValue>)getter;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _lead?.Dispose();
                _follow?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
