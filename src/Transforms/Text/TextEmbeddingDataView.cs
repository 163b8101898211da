using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.PaperExtensions.Text;

namespace Microsoft.ML.PaperExtensions.TextEmbedding;

/// <summary>
/// The rows of a source view with their text embeddings, computed a block of texts at a time: tokenized with padding to the
/// block's longest text, run through the batched encoder graph in one ONNX Runtime call. Schema and types are the saved
/// chain's. One cursor reads the texts ahead by a block; a second stays on the current row for the source's own columns.
/// </summary>
internal sealed class TextEmbeddingDataView : IDataView
{
    private readonly IDataView _source;
    private readonly TextEmbeddingTransformer _transformer;

    public TextEmbeddingDataView(IDataView source, TextEmbeddingTransformer transformer, DataViewSchema chainSchema)
    {
        _source = source;
        _transformer = transformer;
        Schema = chainSchema;
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this, columnsNeeded.ToList());

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly TextEmbeddingDataView _view;
        private readonly HashSet<int> _active;
        private readonly DataViewRowCursor? _lead;
        private readonly ValueGetter<ReadOnlyMemory<char>>? _text;
        private readonly DataViewRowCursor? _follow;
        private readonly string[] _texts;
        private readonly int _dimension;
        private float[] _vectors = [];
        private int _rows;
        private int _row = -1;
        private long _position = -1;

        public Cursor(TextEmbeddingDataView view, IReadOnlyList<DataViewSchema.Column> needed)
        {
            _view = view;
            _active = needed.Select(c => c.Index).ToHashSet();
            var settings = view._transformer.Settings;
            _texts = new string[settings.BatchSize];
            _dimension = view._transformer.Dimension;
            bool embedding = needed.Any(c => c.Name == settings.OutputColumnName);
            if (embedding)
            {
                var textColumn = view._source.Schema[settings.InputColumnName];
                _lead = view._source.GetRowCursor([textColumn]);
                _text = _lead.GetGetter<ReadOnlyMemory<char>>(textColumn);
            }
            var passthrough = needed.Where(c => c.Name != settings.OutputColumnName).Select(c => view._source.Schema[c.Name]).ToList();
            if (passthrough.Count > 0 || !embedding) _follow = view._source.GetRowCursor(passthrough);
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
            var text = default(ReadOnlyMemory<char>);
            _rows = 0;
            while (_rows < _texts.Length && _lead!.MoveNext())
            {
                _text!(ref text);
                _texts[_rows++] = text.ToString();
            }
            if (_rows == 0) return false;
            var transformer = _view._transformer;
            var tokens = transformer.Encoder.Tokenizer.EncodeBatch(_rows == _texts.Length ? _texts : _texts[.._rows], null, transformer.Settings.MaxSequenceLength);
            _vectors = transformer.Settings.TorchDevice is null ? RunOnnx(transformer, tokens) : transformer.Torch.Embed(tokens);
            return true;
        }

        private static float[] RunOnnx(TextEmbeddingTransformer transformer, TokenBatch tokens)
        {
            long[] shape = [tokens.Rows, tokens.Length];
            using var ids = OrtValue.CreateTensorValueFromMemory(tokens.InputIds, shape);
            using var mask = OrtValue.CreateTensorValueFromMemory(tokens.AttentionMask, shape);
            using var types = OrtValue.CreateTensorValueFromMemory(tokens.TokenTypeIds, shape);
            using var options = new RunOptions();
            using var outputs = transformer.Session.Run(options, [BertOnnxGraph.InputIds, BertOnnxGraph.AttentionMask, BertOnnxGraph.TokenTypeIds], [ids, mask, types], [BertOnnxGraph.Embedding]);
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Name != _view._transformer.Settings.OutputColumnName)
                return _follow!.GetGetter<TValue>(_view._source.Schema[column.Name]);
            ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> value) =>
            {
                var editor = VBufferEditor.Create(ref value, _dimension);
                _vectors.AsSpan(_row * _dimension, _dimension).CopyTo(editor.Values);
                value = editor.Commit();
            };
            return (ValueGetter<TValue>)(Delegate)getter;
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
