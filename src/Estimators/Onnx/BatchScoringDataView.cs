using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;

namespace Microsoft.ML.PaperExtensions.Onnx;

/// <summary>
/// The rows of a source view with the outputs of a batched ONNX graph, run by one ONNX Runtime session over blocks of rows
/// instead of once per row (ML.NET's <c>OnnxTransformer</c> feeds the graph row by row). The schema, the types and the
/// annotations are those of the ML.NET chain that saves the model: vectors, scalar Singles, keys with their class names,
/// Booleans. A row the graph marks as unscored (index 0) gets the missing key, as the chain gives it.
/// </summary>
internal sealed class BatchScoringDataView : IDataView
{
    internal const int BlockRows = 4096;

    private readonly IDataView _source;
    private readonly OnnxSession _session;
    private readonly Dictionary<string, PredictionColumn> _outputs;

    public BatchScoringDataView(IDataView source, OnnxSession session, DataViewSchema chainSchema, IReadOnlyList<PredictionColumn> outputs)
    {
        _source = source;
        _session = session;
        _outputs = outputs.ToDictionary(o => o.Name);
        var builder = new DataViewSchema.Builder();
        foreach (var column in chainSchema.Where(c => !c.IsHidden))
        {
            if (!_outputs.ContainsKey(column.Name) && source.Schema.GetColumnOrNull(column.Name) is not { IsHidden: false }) continue;
            builder.AddColumn(column.Name, column.Type, column.Annotations);
        }
        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this, columnsNeeded.ToList());

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : BlockCursor
    {
        private readonly BatchScoringDataView _view;
        private readonly OnnxSession _session;
        private readonly OnnxSession.InputReader? _inputs;
        private OnnxSession.Block? _block;

        public Cursor(BatchScoringDataView view, IReadOnlyList<DataViewSchema.Column> needed)
            : base(view._source, view.Schema, needed, view._outputs.ContainsKey, view._session.InputNames.Select(n => view._source.Schema[n]).ToList())
        {
            _view = view;
            // ONNX Runtime runs every node of a graph whatever outputs are fetched, so the cursor scores with the graph cut
            // down to the outputs it was asked for (a reader of Score alone does not pay for the other columns).
            _session = view._session.ForOutputs(needed.Select(c => c.Name).Where(view._outputs.ContainsKey));
            if (Lead is not null) _inputs = _session.Reader(Lead);
        }

        protected override int NextBlock()
        {
            _block ??= _session.NewBlock(BlockRows);
            _session.Score(Lead!, _inputs!, _block);
            return _block.Rows;
        }

        protected override Delegate OutputGetter(DataViewSchema.Column column)
        {
            var output = _view._outputs[column.Name];
            var k = _session.OutputIndex(output.Name);
            return output.Kind switch
            {
                PredictionKind.Vector when output.Double => (ValueGetter<VBuffer<double>>)((ref VBuffer<double> v) => _block!.Vector(k, Row, ref v)),
                PredictionKind.Vector => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> v) => _block!.Vector(k, Row, ref v)),
                PredictionKind.Scalar => (ValueGetter<float>)((ref float v) => v = _block!.Scalar(k, Row)),
                PredictionKind.Boolean => (ValueGetter<bool>)((ref bool v) => v = _block!.Scalar(k, Row) != 0),
                _ => (ValueGetter<uint>)((ref uint v) => v = _block!.Key(k, Row, ((KeyDataViewType)column.Type).Count)),
            };
        }
    }
}

/// <summary>One ONNX Runtime session of a batched graph (inputs [N, k], outputs [N] or [N, k]), shared by every cursor.</summary>
internal sealed class OnnxSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly ModelProto _model;
    private readonly (string Name, bool IsDouble, int Width)[] _inputs;
    private readonly string[] _outputNames;
    private readonly string[] _inputNames;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, OnnxSession> _pruned = [];

    public OnnxSession(ModelProto model)
    {
        _model = model;
        // One intra-op thread: blocks of a thousand rows through small graphs gain nothing from a thread pool.
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        _session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(model), options);
        _inputs = model.Graph.Input.Select(i => (i.Name, OnnxGraphBuilder.ElementType(i) == OnnxElementType.Double, (int)OnnxGraphBuilder.Shape(i)[1])).ToArray();
        _outputNames = model.Graph.Output.Select(o => o.Name).ToArray();
        _inputNames = _inputs.Select(i => i.Name).ToArray();
    }

    public IReadOnlyList<string> InputNames => _inputs.Select(i => i.Name).ToList();

    /// <summary>
    /// A session of the graph reduced to the named outputs and the nodes they depend on (this session when that is every
    /// output, or none); made once per set of outputs and kept with this one. Inputs stay as they are.
    /// </summary>
    public OnnxSession ForOutputs(IEnumerable<string> outputs)
    {
        var wanted = outputs.Distinct().Order(StringComparer.Ordinal).ToArray();
        if (wanted.Length == 0 || wanted.Length == _outputNames.Length) return this;
        var key = string.Join('\n', wanted);
        lock (_gate)
        {
            if (!_pruned.TryGetValue(key, out var session))
            {
                _pruned[key] = session = new OnnxSession(OnnxGraphBuilder.Prune(_model, wanted));
            }
            return session;
        }
    }

    /// <summary>Getters that copy the current row's inputs into a block.</summary>
    internal sealed class InputReader(Action<int, Block>[] copy)
    {
        public void Copy(int row, Block block)
        {
            foreach (var c in copy) c(row, block);
        }
    }

    public InputReader Reader(DataViewRowCursor cursor) => new(_inputs.Select((input, j) =>
    {
        var column = cursor.Schema[input.Name];
        var isVector = column.Type is VectorDataViewType;
        if (input.IsDouble)
        {
            if (isVector)
            {
                var get = cursor.GetGetter<VBuffer<double>>(column);
                var buffer = default(VBuffer<double>);
                return (Action<int, Block>)((row, block) => { get(ref buffer); buffer.CopyTo(block.DoubleInput(j).AsSpan(row * input.Width, input.Width)); });
            }
            var scalar = cursor.GetGetter<double>(column);
            var value = 0.0;
            return (row, block) => { scalar(ref value); block.DoubleInput(j)[row] = value; };
        }
        if (isVector)
        {
            var get = cursor.GetGetter<VBuffer<float>>(column);
            var buffer = default(VBuffer<float>);
            return (row, block) => { get(ref buffer); buffer.CopyTo(block.FloatInput(j).AsSpan(row * input.Width, input.Width)); };
        }
        var single = cursor.GetGetter<float>(column);
        var f = 0f;
        return (row, block) => { single(ref f); block.FloatInput(j)[row] = f; };
    }).ToArray());

    /// <summary>The position of a graph output.</summary>
    public int OutputIndex(string name) => Array.IndexOf(_outputNames, name);

    /// <summary>Buffers for blocks of up to <paramref name="maxRows"/> rows, reused block after block.</summary>
    public Block NewBlock(int maxRows) => new(_inputs, _outputNames.Length, maxRows);

    /// <summary>Reads the next rows (as many as the block holds) from <paramref name="cursor"/> into <paramref name="block"/> and scores them.</summary>
    public void Score(DataViewRowCursor cursor, InputReader reader, Block block)
    {
        var rows = 0;
        while (rows < block.MaxRows && cursor.MoveNext()) reader.Copy(rows++, block);
        block.Rows = rows;
        if (rows == 0) return;
        var values = _inputs.Select((input, j) => input.IsDouble
            ? OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, block.DoubleInput(j).AsMemory(0, rows * input.Width), [rows, input.Width])
            : OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, block.FloatInput(j).AsMemory(0, rows * input.Width), [rows, input.Width])).ToArray();
        try
        {
            IDisposableReadOnlyCollection<OrtValue> results;
            using (var run = new RunOptions())
            {
                lock (_gate) results = _session.Run(run, _inputNames, values, _outputNames);
            }
            using (results)
            {
                for (var k = 0; k < _outputNames.Length; k++) block.SetOutput(k, _outputNames[k], results[k]);
            }
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var session in _pruned.Values) session.Dispose();
        _session.Dispose();
    }

    /// <summary>The inputs and outputs of one block of rows; the arrays are reused from block to block.</summary>
    internal sealed class Block
    {
        private readonly object[] _inputs;
        private readonly float[]?[] _floats;
        private readonly double[]?[] _doubles;
        private readonly int[] _widths;

        public Block((string Name, bool IsDouble, int Width)[] inputs, int outputs, int maxRows)
        {
            MaxRows = maxRows;
            _inputs = inputs.Select(i => i.IsDouble ? (object)new double[maxRows * i.Width] : new float[maxRows * i.Width]).ToArray();
            _floats = new float[]?[outputs];
            _doubles = new double[]?[outputs];
            _widths = new int[outputs];
        }

        public int MaxRows { get; }

        public int Rows { get; set; }

        public float[] FloatInput(int j) => (float[])_inputs[j];

        public double[] DoubleInput(int j) => (double[])_inputs[j];

        public void SetOutput(int k, string name, OrtValue value)
        {
            var info = value.GetTensorTypeAndShape();
            var width = info.Shape.Length == 1 ? 1 : (int)info.Shape[1];
            _widths[k] = width;
            var size = MaxRows * width;
            switch (info.ElementDataType)
            {
                case TensorElementType.Double:
                    value.GetTensorDataAsSpan<double>().CopyTo(_doubles[k] ??= new double[size]);
                    break;
                case TensorElementType.Float:
                    value.GetTensorDataAsSpan<float>().CopyTo(_floats[k] ??= new float[size]);
                    break;
                case TensorElementType.UInt32:
                    Convert(value.GetTensorDataAsSpan<uint>(), _floats[k] ??= new float[size]);
                    break;
                case TensorElementType.Int64:
                    Convert(value.GetTensorDataAsSpan<long>(), _floats[k] ??= new float[size]);
                    break;
                default:
                    throw new NotSupportedException($"Graph output '{name}' has the element type {info.ElementDataType}, which batch scoring does not read.");
            }
        }

        private static void Convert<T>(ReadOnlySpan<T> source, float[] destination) where T : unmanaged
        {
            for (var i = 0; i < source.Length; i++) destination[i] = System.Convert.ToSingle(source[i], System.Globalization.CultureInfo.InvariantCulture);
        }

        public void Vector(int k, int row, ref VBuffer<float> destination)
        {
            var width = _widths[k];
            var editor = VBufferEditor.Create(ref destination, width);
            if (_floats[k] is { } floats) floats.AsSpan(row * width, width).CopyTo(editor.Values);
            else for (var i = 0; i < width; i++) editor.Values[i] = (float)_doubles[k]![row * width + i];
            destination = editor.Commit();
        }

        public void Vector(int k, int row, ref VBuffer<double> destination)
        {
            var width = _widths[k];
            var editor = VBufferEditor.Create(ref destination, width);
            if (_doubles[k] is { } doubles) doubles.AsSpan(row * width, width).CopyTo(editor.Values);
            else for (var i = 0; i < width; i++) editor.Values[i] = _floats[k]![row * width + i];
            destination = editor.Commit();
        }

        public float Scalar(int k, int row) => _floats[k] is { } floats ? floats[row] : (float)_doubles[k]![row];

        /// <summary>A 1-based class index as a key; anything else (0, NaN) is the missing key, as ML.NET's value mapping gives it.</summary>
        public uint Key(int k, int row, ulong classCount)
        {
            var index = Scalar(k, row);
            return index >= 1 && index <= classCount && index == MathF.Floor(index) ? (uint)index : 0;
        }
    }
}
