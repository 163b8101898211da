using System.Runtime.InteropServices;
using Google.Protobuf;
using Microsoft.ML.Data;
using Onnx;

namespace Microsoft.ML.PaperExtensions.Onnx;

/// <summary>ONNX element types used by the package's graphs.</summary>
public enum OnnxElementType
{
    /// <summary>32-bit float.</summary>
    Float = 1,
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 2,
    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 3,
    /// <summary>Signed 16-bit integer.</summary>
    Int16 = 5,
    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 6,
    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 7,
    /// <summary>UTF-8 text.</summary>
    String = 8,
    /// <summary>Boolean.</summary>
    Bool = 9,
    /// <summary>16-bit IEEE float.</summary>
    Float16 = 10,
    /// <summary>64-bit float.</summary>
    Double = 11,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 12,
}

/// <summary>
/// A small builder for ONNX graphs on OnnxSharp's protobuf types: typed inputs and outputs whose first dimension may be
/// the symbolic batch dimension, initializers, and nodes with generated output names.
/// </summary>
/// <remarks>
/// Numeric initializers are stored as raw little-endian bytes (<c>raw_data</c>), float16, int8 and uint8 included, so a
/// graph of encoder size (tens of millions of weights) builds in one copy per tensor. Nodes of other operator domains
/// (<c>com.microsoft</c> for ONNX Runtime's <c>MatMulNBits</c>) are added with <see cref="AddNode(string, string, IReadOnlyList{string}, string?, AttributeProto[])"/>,
/// which imports the domain. A protobuf message cannot exceed 2 GB: <see cref="Save"/> moves large tensors to an external
/// data file beside the model when the graph would pass that size; <see cref="ToBytes"/> refuses such graphs with a message.
/// </remarks>
/// <example>
/// <code>
/// var g = new OnnxGraphBuilder("linear");
/// var x = g.AddInput("Features", OnnxElementType.Float, OnnxGraphBuilder.Batch, 3);
/// var w = g.AddInitializer("w", new float[] { 1, 2, 3 }, 3, 1);
/// g.AddNode("MatMul", [x, w], "Score");
/// g.AddOutput("Score", OnnxElementType.Float, OnnxGraphBuilder.Batch, 1);
/// byte[] model = g.ToBytes();
/// </code>
/// </example>
public sealed class OnnxGraphBuilder
{
    /// <summary>Marks the symbolic batch dimension in a shape.</summary>
    public const long Batch = -1;

    /// <summary>The symbolic name given to the batch dimension.</summary>
    public const string BatchDimensionName = "N";

    /// <summary>Marks a symbolic sequence-length dimension in a shape (token inputs of text models).</summary>
    public const long Sequence = -2;

    /// <summary>The symbolic name given to the sequence dimension.</summary>
    public const string SequenceDimensionName = "T";

    /// <summary>ONNX Runtime's contrib operator domain (MatMulNBits and friends).</summary>
    public const string MicrosoftDomain = "com.microsoft";

    /// <summary>The largest protobuf message: a model above it needs external data.</summary>
    public const long ProtobufLimit = int.MaxValue;

    private readonly GraphProto _graph;
    private readonly int _opset;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _domains = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);
    private int _counter;

    /// <summary>Starts an empty graph.</summary>
    /// <param name="graphName">The graph's name.</param>
    /// <param name="opsetVersion">The default-domain opset (17 is supported by ONNX Runtime 1.14 and later).</param>
    public OnnxGraphBuilder(string graphName, int opsetVersion = 17)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(graphName);
        ArgumentOutOfRangeException.ThrowIfLessThan(opsetVersion, 13);
        _graph = new GraphProto { Name = graphName };
        _opset = opsetVersion;
    }

    /// <summary>Adds a graph input and returns its name.</summary>
    public string AddInput(string name, OnnxElementType type, params long[] shape)
    {
        Reserve(name);
        _graph.Input.Add(ValueInfo(name, type, shape));
        return name;
    }

    /// <summary>
    /// Declares an input for an ML.NET column as ML.NET feeds it: [N, k] for a vector of size k, [N, 1] for a scalar,
    /// float for Single, double for Double. Returns a value of shape [N, width] cast to <paramref name="computeType"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The column is not a Single or Double scalar or known-size vector.</exception>
    public string AddColumnInput(string columnName, DataViewType columnType, OnnxElementType computeType)
    {
        var item = columnType is VectorDataViewType vector ? vector.ItemType : columnType;
        var type = item == NumberDataViewType.Single ? OnnxElementType.Float
            : item == NumberDataViewType.Double ? OnnxElementType.Double
            : throw new ArgumentException($"Column '{columnName}' must hold Single or Double values to be an ONNX input, but is {columnType}.", nameof(columnType));
        var width = columnType is VectorDataViewType v ? v.Size : 1;
        if (width == 0)
        {
            throw new ArgumentException($"Column '{columnName}' is a vector of unknown size; ONNX inputs need a known size.", nameof(columnType));
        }
        var value = AddInput(columnName, type, Batch, width);
        return type == computeType ? value : AddNode("Cast", [value], null, Attribute("to", (long)computeType));
    }

    /// <summary>Declares a graph output; a node must produce a value of that name.</summary>
    public void AddOutput(string name, OnnxElementType type, params long[] shape) => _graph.Output.Add(ValueInfo(name, type, shape));

    /// <summary>Declares the output of a prediction column: [N, <paramref name="width"/>] for a vector, [N] otherwise.</summary>
    internal void AddOutput(PredictionColumn column, long width = 0)
    {
        if (column.Kind == PredictionKind.Vector && width < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(width), width, $"Vector output '{column.Name}' needs its width.");
        }
        AddOutput(column.Name, column.ElementType, column.Kind == PredictionKind.Vector ? [Batch, width] : [Batch]);
    }

    /// <summary>Adds a float initializer (raw little-endian data) and returns its name.</summary>
    public string AddInitializer(string name, ReadOnlySpan<float> values, params long[] shape) => AddRaw(name, OnnxElementType.Float, values, shape);

    /// <summary>Adds a double initializer and returns its name.</summary>
    public string AddInitializer(string name, ReadOnlySpan<double> values, params long[] shape) => AddRaw(name, OnnxElementType.Double, values, shape);

    /// <summary>Adds an int64 initializer (shapes, axes, indices) and returns its name.</summary>
    public string AddInitializer(string name, ReadOnlySpan<long> values, params long[] shape) => AddRaw(name, OnnxElementType.Int64, values, shape);

    /// <summary>Adds an int32 initializer and returns its name.</summary>
    public string AddInitializer(string name, ReadOnlySpan<int> values, params long[] shape) => AddRaw(name, OnnxElementType.Int32, values, shape);

    /// <summary>Adds a float16 initializer and returns its name.</summary>
    public string AddInitializer(string name, ReadOnlySpan<Half> values, params long[] shape) => AddRaw(name, OnnxElementType.Float16, values, shape);

    /// <summary>Adds a uint8 initializer (for example packed 4-bit weights) and returns its name.</summary>
    public string AddInitializer(string name, ReadOnlySpan<byte> values, params long[] shape) => AddRaw(name, OnnxElementType.UInt8, values, shape);

    /// <summary>Adds an int8 initializer and returns its name.</summary>
    public string AddInitializer(string name, ReadOnlySpan<sbyte> values, params long[] shape) => AddRaw(name, OnnxElementType.Int8, values, shape);

    /// <summary>Adds a uint32 initializer and returns its name (ONNX keeps uint32 values in <c>uint64_data</c>).</summary>
    public string AddInitializer(string name, ReadOnlySpan<uint> values, params long[] shape)
    {
        var tensor = AddInitializer(name, OnnxElementType.UInt32, shape, values.Length);
        foreach (var v in values) tensor.Uint64Data.Add(v);
        return name;
    }

    /// <summary>Adds a UTF-8 string initializer (for example class names) and returns its name.</summary>
    public string AddInitializer(string name, IReadOnlyList<string> values, params long[] shape)
    {
        var tensor = AddInitializer(name, OnnxElementType.String, shape, values.Count);
        tensor.StringData.AddRange(values.Select(ByteString.CopyFromUtf8));
        return name;
    }

    /// <summary>Adds a node with one output. When <paramref name="output"/> is null a unique name is generated. Returns the output name.</summary>
    public string AddNode(string opType, IReadOnlyList<string> inputs, string? output = null, params AttributeProto[] attributes) =>
        AddMultiOutputNode(opType, inputs, [output ?? NewName(opType)], attributes)[0];

    /// <summary>Adds a node of another operator domain (for example <see cref="MicrosoftDomain"/>), importing the domain at version 1.</summary>
    public string AddNode(string domain, string opType, IReadOnlyList<string> inputs, string? output = null, params AttributeProto[] attributes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(domain);
        _domains.TryAdd(domain, 1);
        var name = AddMultiOutputNode(opType, inputs, [output ?? NewName(opType)], attributes)[0];
        _graph.Node[^1].Domain = domain;
        return name;
    }

    /// <summary>A key-value pair stored in the model's <c>metadata_props</c> (ONNX Runtime and ML.NET keep them).</summary>
    public void SetMetadata(string key, string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        ArgumentNullException.ThrowIfNull(value);
        _metadata[key] = value;
    }

    /// <summary>Adds a node with several outputs and returns their names.</summary>
    public IReadOnlyList<string> AddMultiOutputNode(string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, params AttributeProto[] attributes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(opType);
        foreach (var output in outputs)
        {
            Reserve(output);
        }
        var node = new NodeProto { OpType = opType, Name = $"{opType}_{_graph.Node.Count}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return outputs;
    }

    /// <summary>A unique value name that starts with <paramref name="prefix"/>.</summary>
    public string NewName(string prefix)
    {
        string name;
        do
        {
            name = $"{prefix}_{_counter++}";
        }
        while (_names.Contains(name));
        return name;
    }

    /// <summary>The finished model (IR version 8).</summary>
    public ModelProto Build()
    {
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "Microsoft.ML.PaperExtensions",
            ProducerVersion = typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString() ?? "",
            Graph = _graph.Clone(),
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = _opset });
        foreach (var (domain, version) in _domains)
        {
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        }
        foreach (var (key, value) in _metadata)
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }
        return model;
    }

    /// <summary>The finished model as ONNX protobuf bytes.</summary>
    /// <exception cref="InvalidOperationException">The model is larger than a protobuf message can be (2 GB); use <see cref="Save"/>.</exception>
    public byte[] ToBytes()
    {
        var model = Build();
        var size = model.CalculateSize();
        if (size < 0 || size >= ProtobufLimit)
        {
            throw new InvalidOperationException($"The ONNX graph '{_graph.Name}' is larger than 2 GB, the most a protobuf message holds; save it to a file with {nameof(Save)}, which writes its large tensors to external data.");
        }
        return model.ToByteArray();
    }

    /// <summary>
    /// Writes the model to <paramref name="path"/>. When it would pass 2 GB, or <paramref name="alwaysExternalAbove"/> bytes is
    /// given, every initializer larger than that many bytes moves to <c>&lt;file&gt;.data</c> beside it (ONNX external data,
    /// 64-byte aligned), which ONNX Runtime reads from the model's folder.
    /// </summary>
    public void Save(string path, long? alwaysExternalAbove = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var model = Build();
        var threshold = alwaysExternalAbove ?? (model.CalculateSize() is var size && (size < 0 || size >= ProtobufLimit) ? 1024 : (long?)null);
        if (threshold is { } limit)
        {
            ExternalData.Move(model, path, limit);
        }
        using var stream = File.Create(path);
        model.WriteTo(stream);
    }

    /// <summary>An integer attribute.</summary>
    public static AttributeProto Attribute(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>A float attribute.</summary>
    public static AttributeProto Attribute(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>A string attribute.</summary>
    public static AttributeProto Attribute(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    /// <summary>An integer-list attribute.</summary>
    public static AttributeProto Attribute(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    /// <summary>
    /// A copy of <paramref name="model"/> whose graph produces only <paramref name="outputs"/>: the nodes, initializers and
    /// value infos nothing of theirs depends on are dropped; the declared inputs stay. Nodes are in topological order, so one
    /// pass from the last node back finds every dependency.
    /// </summary>
    internal static ModelProto Prune(ModelProto model, IReadOnlyCollection<string> outputs)
    {
        var pruned = model.Clone();
        var graph = pruned.Graph;
        var kept = graph.Output.Where(o => outputs.Contains(o.Name)).ToList();
        if (kept.Count != outputs.Count)
        {
            throw new ArgumentException($"The graph has no output {string.Join(", ", outputs.Except(kept.Select(o => o.Name)))}.", nameof(outputs));
        }
        graph.Output.Clear();
        graph.Output.AddRange(kept);
        var needed = outputs.ToHashSet();
        var nodes = new List<NodeProto>();
        for (var i = graph.Node.Count - 1; i >= 0; i--)
        {
            var node = graph.Node[i];
            if (!node.Output.Any(needed.Contains)) continue;
            nodes.Add(node);
            needed.UnionWith(node.Input.Where(n => n.Length > 0));
            // A node with a subgraph may read outer values by name: keep them all (our graphs have none).
            foreach (var attribute in node.Attribute.Where(a => a.G is not null))
            {
                needed.UnionWith(attribute.G.Node.SelectMany(n => n.Input));
            }
        }
        nodes.Reverse();
        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        var initializers = graph.Initializer.Where(t => needed.Contains(t.Name)).ToList();
        graph.Initializer.Clear();
        graph.Initializer.AddRange(initializers);
        var valueInfo = graph.ValueInfo.Where(v => needed.Contains(v.Name)).ToList();
        graph.ValueInfo.Clear();
        graph.ValueInfo.AddRange(valueInfo);
        return pruned;
    }

    /// <summary>The element type of a declared input or output.</summary>
    internal static OnnxElementType ElementType(ValueInfoProto value) => (OnnxElementType)value.Type.TensorType.ElemType;

    /// <summary>The declared shape of a value, with <see cref="Batch"/> or <see cref="Sequence"/> for a symbolic dimension.</summary>
    internal static long[] Shape(ValueInfoProto value) =>
        value.Type.TensorType.Shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue
            : d.DimParam == SequenceDimensionName ? Sequence : Batch).ToArray();

    internal static ValueInfoProto ValueInfo(string name, OnnxElementType type, IReadOnlyList<long> shape)
    {
        var tensorShape = new TensorShapeProto();
        foreach (var d in shape)
        {
            tensorShape.Dim.Add(d switch
            {
                Batch => new TensorShapeProto.Types.Dimension { DimParam = BatchDimensionName },
                Sequence => new TensorShapeProto.Types.Dimension { DimParam = SequenceDimensionName },
                _ => new TensorShapeProto.Types.Dimension { DimValue = d },
            });
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = tensorShape } },
        };
    }

    private string AddRaw<T>(string name, OnnxElementType type, ReadOnlySpan<T> values, long[] shape) where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw tensor data is little-endian; this machine is not.");
        AddInitializer(name, type, shape, values.Length).RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values));
        return name;
    }

    private TensorProto AddInitializer(string name, OnnxElementType type, long[] shape, int count)
    {
        var expected = shape.Aggregate(1L, (a, b) => a * b);
        if (expected != count)
        {
            throw new ArgumentException($"Initializer '{name}' has {count} values but its shape [{string.Join(", ", shape)}] holds {expected}.", nameof(shape));
        }
        Reserve(name);
        var tensor = new TensorProto { Name = name, DataType = (int)type };
        tensor.Dims.AddRange(shape);
        _graph.Initializer.Add(tensor);
        return tensor;
    }

    private void Reserve(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!_names.Add(name))
        {
            throw new ArgumentException($"The graph already has a value named '{name}'.", nameof(name));
        }
    }
}
