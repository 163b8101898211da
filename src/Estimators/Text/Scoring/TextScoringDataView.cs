using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.PaperExtensions.Onnx;

namespace Microsoft.ML.PaperExtensions.Text;

/// <summary>
/// The rows of a source view with a text model's outputs, computed a block of texts at a time: tokenized with padding to the
/// block's longest text, run through the batched graph in one ONNX Runtime call (or the TorchSharp encoder). Schema, types
/// and key values are the saved chain's.
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

    private sealed class Cursor : BlockCursor
    {
        private readonly TextScoringDataView _view;
        private readonly ValueGetter<ReadOnlyMemory<char>>? _text;
        private readonly ValueGetter<ReadOnlyMemory<char>>? _pair;
        private readonly string[] _texts;
        private readonly string[]? _pairs;
        private Dictionary<string, float[]> _values = [];

        public Cursor(TextScoringDataView view, IReadOnlyList<DataViewSchema.Column> needed)
            : base(view._source, view.Schema, needed, view._outputs.ContainsKey, TextColumns(view))
        {
            _view = view;
            var settings = view._scorer.Settings;
            _texts = new string[settings.BatchSize];
            if (Lead is null) return;
            var columns = TextColumns(view);
            _text = Lead.GetGetter<ReadOnlyMemory<char>>(columns[0]);
            if (columns.Count > 1)
            {
                _pair = Lead.GetGetter<ReadOnlyMemory<char>>(columns[1]);
                _pairs = new string[settings.BatchSize];
            }
        }

        private static IReadOnlyList<DataViewSchema.Column> TextColumns(TextScoringDataView view) =>
            new[] { view._scorer.Settings.InputColumnName, view._scorer.Settings.PairColumnName }.OfType<string>().Select(n => view._source.Schema[n]).ToList();

        protected override int NextBlock()
        {
            var value = default(ReadOnlyMemory<char>);
            int rows = 0;
            while (rows < _texts.Length && Lead!.MoveNext())
            {
                _text!(ref value);
                _texts[rows] = value.ToString();
                if (_pair is not null)
                {
                    _pair(ref value);
                    _pairs![rows] = value.ToString();
                }
                rows++;
            }
            if (rows == 0) return 0;
            var scorer = _view._scorer;
            var tokens = scorer.Tokenizer.EncodeBatch(_texts[..rows], _pairs?[..rows], scorer.Settings.MaxSequenceLength);
            _values = scorer.Torch is { } torch ? new() { [scorer.Outputs[0].Name] = torch.Embed(tokens) } : RunOnnx(scorer, tokens);
            return rows;
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

        protected override Delegate OutputGetter(DataViewSchema.Column column) => _view._outputs[column.Name].Kind switch
        {
            PredictionKind.Vector => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
            {
                int width = ((VectorDataViewType)column.Type).Size;
                var editor = VBufferEditor.Create(ref value, width);
                _values[column.Name].AsSpan(Row * width, width).CopyTo(editor.Values);
                value = editor.Commit();
            }),
            PredictionKind.Scalar => (ValueGetter<float>)((ref float value) => value = _values[column.Name][Row]),
            _ => (ValueGetter<uint>)((ref uint value) =>
            {
                float index = _values[column.Name][Row];
                value = index >= 1 && index <= ((KeyDataViewType)column.Type).Count ? (uint)index : 0;
            }),
        };
    }
}
