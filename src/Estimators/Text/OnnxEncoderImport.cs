using System.Globalization;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Microsoft.ML.PaperExtensions.Onnx;
using Onnx;

namespace Microsoft.ML.PaperExtensions.Text;

/// <summary>
/// Reads the weights of a BERT-family encoder (a Hugging Face <c>BertModel</c> exported by <c>torch.onnx</c>) out of its ONNX graph,
/// under Hugging Face state-dict names, with the config inferred from the graph.
/// </summary>
/// <remarks>
/// The exporter keeps the names of biases, embeddings and LayerNorms, but stores each Linear weight as an auto-numbered
/// initializer in [in, out] layout feeding a MatMul. Each one is therefore named by where it sits in the dataflow:
/// which LayerNorm feeds it, which LayerNorm its output reaches, and for Q/K/V how it reaches the attention MatMuls.
/// </remarks>
internal static class OnnxEncoderImport
{
    public static EncoderCheckpoint Read(string onnxPath)
    {
        var graph = new Graph(Parse(onnxPath), onnxPath);
        var names = new Dictionary<string, Weight>();

        var norms = FindLayerNorms(graph);
        if (norms.Count < 3 || norms.Count % 2 == 0)
            throw graph.Error($"found {norms.Count} LayerNorms, but a BERT encoder of L layers has 2L + 1 (embeddings, then attention and output of each layer); this is not a BERT-family encoder.");
        int layers = (norms.Count - 1) / 2;
        for (int k = 0; k < norms.Count; k++)
        {
            string prefix = k == 0 ? "embeddings.LayerNorm"
                : k % 2 == 1 ? $"encoder.layer.{(k - 1) / 2}.attention.output.LayerNorm"
                : $"encoder.layer.{k / 2 - 1}.output.LayerNorm";
            Assign(graph, names, prefix + ".weight", norms[k].Gamma);
            Assign(graph, names, prefix + ".bias", norms[k].Beta);
        }

        var headCounts = new HashSet<(long? Heads, long? HeadSize)>();
        foreach (var linear in FindLinears(graph))
        {
            string name = ClassifyLinear(graph, linear, norms, headCounts);
            Assign(graph, names, name + ".weight", linear.Weight);
            if (linear.Bias is null)
                throw graph.Error($"{linear.Node} ({name}) has no bias; BERT Linear layers all have one.");
            Assign(graph, names, name + ".bias", linear.Bias);
        }

        AssignEmbeddings(graph, names, norms[0]);

        var word = Shape(graph, names, "embeddings.word_embeddings.weight");
        int hidden = (int)word[1];
        var config = new BertConfig
        {
            VocabSize = (int)word[0],
            HiddenSize = hidden,
            NumHiddenLayers = layers,
            NumAttentionHeads = HeadCount(graph, headCounts, hidden),
            IntermediateSize = (int)Shape(graph, names, "encoder.layer.0.intermediate.dense.weight")[0],
            MaxPositionEmbeddings = (int)Shape(graph, names, "embeddings.position_embeddings.weight")[0],
            TypeVocabSize = (int)Shape(graph, names, "embeddings.token_type_embeddings.weight")[0],
            LayerNormEps = Epsilon(graph, norms),
        };
        config.Validate(onnxPath);

        var tensors = names.ToDictionary(pair => pair.Key, pair => pair.Value.ToTensor(graph));
        var checkpoint = new EncoderCheckpoint(config, tensors, onnxPath);
        checkpoint.Validate();
        return checkpoint;
    }

    private static ModelProto Parse(string path)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{path}: not a readable ONNX model ({e.Message}).", e);
        }
        if (model.Graph is null || model.Graph.Node.Count == 0)
            throw new InvalidDataException($"{path}: not an ONNX model (it has no graph nodes).");
        return model;
    }

    private static void Assign(Graph graph, Dictionary<string, Weight> names, string name, Weight weight)
    {
        if (!names.TryAdd(name, weight))
            throw graph.Error($"two tensors map to '{name}': '{names[name].Source}' and '{weight.Source}'.");
    }

    private static long[] Shape(Graph graph, Dictionary<string, Weight> names, string name) =>
        names.TryGetValue(name, out var weight) ? weight.Shape(graph) : throw graph.Error($"no tensor found for '{name}'.");

    // LayerNorm: the fused op, or torch's decomposition
    //   Div(Sub(x, ReduceMean(x)), Sqrt(Add(ReduceMean(Pow(x - mean, 2)), eps))) * gamma + beta.
    private static List<LayerNorm> FindLayerNorms(Graph graph)
    {
        var norms = new List<LayerNorm>();
        foreach (var node in graph.Nodes)
        {
            if (node.OpType == "LayerNormalization")
            {
                var gamma = graph.Source(node.Input(1));
                var beta = graph.Source(node.Input(2));
                if (gamma is null || beta is null)
                    throw graph.Error($"{node} has no constant scale or bias.");
                double eps = node.Attribute("epsilon") is { } e ? FloatToDouble(e.F) : 1e-5;
                norms.Add(new LayerNorm(node.Input(0), node.Output(0), gamma, beta, eps, node));
                continue;
            }
            if (node.OpType != "Div") continue;
            var sub = graph.Producer(node.Input(0));
            var sqrt = graph.Producer(node.Input(1));
            if (sub?.OpType != "Sub" || sqrt?.OpType != "Sqrt") continue;
            var mean = graph.Producer(sub.Input(1));
            if (mean?.OpType != "ReduceMean" || mean.Input(0) != sub.Input(0)) continue;

            double? epsilon = null;
            if (graph.Producer(sqrt.Input(0)) is { OpType: "Add" } addEps)
            {
                foreach (var input in addEps.Inputs)
                {
                    if (graph.Source(input) is { Transposed: false } c && c.Count == 1 && graph.ScalarValue(c) is { } v)
                        epsilon = v;
                }
            }
            if (epsilon is null)
                throw graph.Error($"{node} normalizes like a LayerNorm, but its epsilon is not a constant added under the Sqrt.");

            // The affine part follows: Mul(gamma), then Add(beta), operands in either order.
            Weight? scale = null, shift = null;
            string y = node.Output(0);
            if (graph.Consumers(y) is [(var mul, int mulSlot)] && mul.OpType == "Mul")
            {
                scale = graph.Source(mul.Input(1 - mulSlot));
                y = mul.Output(0);
                if (graph.Consumers(y) is [(var add, int addSlot)] && add.OpType == "Add"
                    && graph.Source(add.Input(1 - addSlot)) is { } b && b.Rank == 1)
                {
                    shift = b;
                    y = add.Output(0);
                }
            }
            if (scale is null || shift is null)
                throw graph.Error($"{node} normalizes like a LayerNorm, but is not followed by a constant scale (Mul) and bias (Add).");
            norms.Add(new LayerNorm(sub.Input(0), y, scale, shift, epsilon.Value, node));
        }
        norms.Sort((a, b) => a.Node.Index.CompareTo(b.Node.Index));
        return norms;
    }

    // Linear: MatMul(x, W) [+ Add(bias)] with W = [in, out] (unless a Transpose sits on its path), or Gemm(x, W, b).
    private static List<Linear> FindLinears(Graph graph)
    {
        var linears = new List<Linear>();
        foreach (var node in graph.Nodes)
        {
            if (node.OpType == "MatMul")
            {
                if (graph.Source(node.Input(1)) is not { Rank: 2 } w) continue;
                if (!w.IsFloat)
                    throw graph.Error($"{node} has weight '{w.Source}' {Text(w.Shape(graph))} of ONNX element type {w.Tensor.DataType}; only float32 weights are supported.");
                // Stored [in, out]; a Transpose on the path means the initializer itself is [out, in].
                var weight = w with { Transposed = !w.Transposed };
                long outputs = weight.Shape(graph)[0];
                string y = node.Output(0);
                Weight? bias = null;
                if (graph.Consumers(y) is [(var add, int slot)] && add.OpType == "Add"
                    && graph.Source(add.Input(1 - slot)) is { Rank: 1 } b && b.Count == outputs)
                {
                    bias = b;
                    y = add.Output(0);
                }
                linears.Add(new Linear(node, graph.Resolve(node.Input(0)), y, weight, bias));
            }
            else if (node.OpType == "Gemm")
            {
                if (graph.Source(node.Input(1)) is not { Rank: 2 } w) continue;
                if (!w.IsFloat)
                    throw graph.Error($"{node} has weight '{w.Source}' {Text(w.Shape(graph))} of ONNX element type {w.Tensor.DataType}; only float32 weights are supported.");
                bool transB = node.Attribute("transB")?.I == 1;
                var weight = w with { Transposed = w.Transposed == transB };
                linears.Add(new Linear(node, graph.Resolve(node.Input(0)), node.Output(0), weight, graph.Source(node.Input(2))));
            }
        }
        return linears;
    }

    private static string ClassifyLinear(Graph graph, Linear linear, List<LayerNorm> norms, HashSet<(long?, long?)> headCounts)
    {
        int layers = (norms.Count - 1) / 2;
        int? normIn = norms.FindIndex(n => n.Y == linear.X) is var i and >= 0 ? i : null;
        int? normOut = null;
        foreach (var (consumer, _) in graph.Consumers(linear.Y))
        {
            if (consumer.OpType == "Add" && norms.FindIndex(n => n.X == consumer.Output(0)) is var k and >= 1)
                normOut = k;
        }

        // Output added to the residual and normalized: the projection closing a block.
        if (normOut is int o)
            return o % 2 == 1 ? $"encoder.layer.{(o - 1) / 2}.attention.output.dense" : $"encoder.layer.{o / 2 - 1}.output.dense";
        if (normIn is int a && a % 2 == 1)
            return $"encoder.layer.{(a - 1) / 2}.intermediate.dense";
        if (normIn is int b && b < 2 * layers)
            return $"encoder.layer.{b / 2}.attention.self.{AttentionRole(graph, linear, headCounts)}";
        if (IsPooler(graph, linear, norms[^1]))
            return "pooler.dense";
        throw graph.Error($"{linear.Node} with weight '{linear.Weight.Source}' {Text(linear.Weight.Shape(graph))} is not a Linear layer of a BERT encoder "
            + "(its input is no LayerNorm output, its output reaches no LayerNorm, and it is no pooler).");
    }

    private static readonly HashSet<string> PassThrough = ["Reshape", "Transpose", "Mul", "Div", "Identity", "Cast", "Squeeze", "Unsqueeze"];
    private static readonly HashSet<string> DataOnly = ["Reshape", "Transpose", "Squeeze", "Unsqueeze"];

    // Q, K and V are told apart by how they reach the activation MatMuls: the scores MatMul takes the query as
    // operand 0 and the (transposed) key as operand 1; the MatMul after Softmax takes the value as operand 1.
    // On the way the heads are split by a Reshape to [..., heads, head size], whose constants give the head count.
    private static string AttentionRole(Graph graph, Linear linear, HashSet<(long?, long?)> headCounts)
    {
        var frontier = new List<string> { linear.Y };
        for (int depth = 0; depth < 12 && frontier.Count > 0; depth++)
        {
            var next = new List<string>();
            foreach (var tensor in frontier)
            {
                foreach (var (node, slot) in graph.Consumers(tensor))
                {
                    if (node.OpType == "MatMul" && graph.Source(node.Input(1)) is null)
                    {
                        string other = node.Input(1 - slot);
                        return FollowsSoftmax(graph, other) ? "value" : slot == 0 ? "query" : "key";
                    }
                    if (!PassThrough.Contains(node.OpType) || (DataOnly.Contains(node.OpType) && slot != 0)) continue;
                    if (node.OpType == "Reshape" && HeadSplit(graph, node) is { } split)
                        headCounts.Add(split);
                    next.Add(node.Output(0));
                }
            }
            frontier = next;
        }
        throw graph.Error($"{linear.Node} with weight '{linear.Weight.Source}' {Text(linear.Weight.Shape(graph))} reads a LayerNorm output like Q/K/V, but reaches no attention MatMul.");
    }

    private static bool FollowsSoftmax(Graph graph, string tensor)
    {
        var node = graph.Producer(tensor);
        for (int step = 0; step < 6 && node is not null; step++)
        {
            if (node.OpType == "Softmax") return true;
            if (node.OpType is not ("Cast" or "Dropout" or "Mul" or "Div" or "Where")) return false;
            node = graph.Producer(node.Input(0));
        }
        return false;
    }

    // The last two entries of a Reshape's target shape: a constant, or a Concat of constants and run-time sizes.
    private static (long?, long?)? HeadSplit(Graph graph, Node reshape)
    {
        string shape = reshape.Input(1);
        if (graph.Source(shape) is { Transposed: false } constant && graph.Integers(constant) is { Length: >= 2 } values)
            return (values[^2], values[^1]);
        if (graph.Producer(shape) is { OpType: "Concat" } concat && concat.Inputs.Count >= 2)
        {
            long? Entry(string input) =>
                graph.Source(input) is { Transposed: false } c && graph.Integers(c) is [var v] ? v : null;
            var split = (Entry(concat.Inputs[^2]), Entry(concat.Inputs[^1]));
            return split.Item1 is null && split.Item2 is null ? null : split;
        }
        return null;
    }

    private static int HeadCount(Graph graph, HashSet<(long? Heads, long? HeadSize)> splits, int hidden)
    {
        var counts = new HashSet<long>();
        foreach (var (heads, size) in splits)
        {
            if (heads is long h && (size is null || h * size == hidden) && h > 0 && hidden % h == 0) counts.Add(h);
            else if (heads is null && size is long d && d > 0 && hidden % d == 0) counts.Add(hidden / d);
        }
        return counts.Count == 1
            ? (int)counts.First()
            : throw graph.Error($"cannot tell the number of attention heads: the Reshapes that split Q/K/V into heads give [{string.Join(", ", splits)}] for hidden size {hidden}.");
    }

    // Pooler: Linear on token 0 of the last hidden state (Gather/Slice/Squeeze), followed by Tanh.
    private static bool IsPooler(Graph graph, Linear linear, LayerNorm last)
    {
        if (!graph.Consumers(linear.Y).Any(c => c.Node.OpType == "Tanh")) return false;
        string tensor = linear.X;
        for (int step = 0; step < 3; step++)
        {
            if (graph.Producer(tensor) is not { OpType: "Gather" or "Slice" or "Squeeze" } select) return false;
            tensor = graph.Resolve(select.Input(0));
            if (tensor == last.Y) return true;
        }
        return false;
    }

    // Embeddings: the tables gathered into the Add tree that feeds the first LayerNorm, told apart by their indices.
    private static void AssignEmbeddings(Graph graph, Dictionary<string, Weight> names, LayerNorm first)
    {
        var gathers = new List<(Node Node, Weight Table)>();
        Weight? slicedPositions = null;
        var stack = new Stack<string>([first.X]);
        for (int budget = 16; stack.Count > 0 && budget > 0; budget--)
        {
            string tensor = stack.Pop();
            var node = graph.Producer(tensor);
            if (node?.OpType == "Add")
            {
                foreach (var input in node.Inputs) stack.Push(input);
            }
            else if (node?.OpType is "Gather" or "Slice" && graph.Source(node.Input(0)) is { IsFloat: true, Rank: 2, Transposed: false } table)
            {
                if (node.OpType == "Gather") gathers.Add((node, table));
                else slicedPositions = table; // positions 0..T-1 taken directly from the table
            }
        }

        var inputs = graph.Inputs;
        string ids = inputs.FirstOrDefault(i => i.Contains("input_ids", StringComparison.Ordinal))
            ?? inputs.FirstOrDefault() ?? throw graph.Error("the graph has no inputs.");
        string? types = inputs.FirstOrDefault(i => i.Contains("token_type", StringComparison.Ordinal));
        var word = new List<(Node Node, Weight Table)>();
        var tokenTypes = new List<(Node Node, Weight Table)>();
        var rest = new List<(Node Node, Weight Table)>();
        foreach (var gather in gathers)
        {
            string index = graph.ResolveThroughCasts(gather.Node.Input(1));
            (index == ids ? word : index == types ? tokenTypes : rest).Add(gather);
        }
        if (word.Count != 1)
            throw graph.Error($"expected one embedding table gathered by '{ids}' before the first LayerNorm ({first.Node}), found {word.Count}.");
        if (tokenTypes.Count == 0 && rest.Count == 2)
        {
            // No token_type_ids input: the segment table is the smaller one.
            rest.Sort((a, b) => a.Table.Shape(graph)[0].CompareTo(b.Table.Shape(graph)[0]));
            tokenTypes.Add(rest[0]);
            rest.RemoveAt(0);
        }
        var positions = rest.Select(g => g.Table).ToList();
        if (positions.Count == 0 && slicedPositions is not null) positions.Add(slicedPositions);
        if (tokenTypes.Count != 1 || positions.Count != 1)
            throw graph.Error($"expected one token-type and one position embedding table before the first LayerNorm ({first.Node}), found {tokenTypes.Count} and {positions.Count}.");

        Assign(graph, names, "embeddings.word_embeddings.weight", word[0].Table);
        Assign(graph, names, "embeddings.token_type_embeddings.weight", tokenTypes[0].Table);
        Assign(graph, names, "embeddings.position_embeddings.weight", positions[0]);
    }

    private static double Epsilon(Graph graph, List<LayerNorm> norms)
    {
        var distinct = norms.Select(n => n.Epsilon).Distinct().ToList();
        return distinct.Count == 1
            ? distinct[0]
            : throw graph.Error($"the LayerNorms use different epsilons ({string.Join(", ", distinct)}).");
    }

    // A float32 epsilon (1e-12 stored as 9.99999996e-13) as the decimal the config gave.
    private static double FloatToDouble(float value) => double.Parse(value.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static string Text(long[] shape) => "[" + string.Join(", ", shape) + "]";

    private sealed record LayerNorm(string X, string Y, Weight Gamma, Weight Beta, double Epsilon, Node Node);

    private sealed record Linear(Node Node, string X, string Y, Weight Weight, Weight? Bias);

    /// <summary>A constant tensor (initializer or Constant node) by name; <c>Transposed</c>: its 2-D transpose is meant.</summary>
    private sealed record Weight(string Source, TensorProto Tensor, bool Transposed)
    {
        public int Rank => Tensor.Dims.Count;
        public long Count => Tensor.Dims.Aggregate(1L, (a, b) => a * b);
        public bool IsFloat => Tensor.DataType == (int)OnnxElementType.Float;

        public long[] Shape(Graph graph)
        {
            var dims = Tensor.Dims.ToArray();
            if (Transposed)
            {
                if (dims.Length != 2) throw graph.Error($"tensor '{Source}' {Text(dims)} is transposed, but is not 2-D.");
                Array.Reverse(dims);
            }
            return dims;
        }

        public EncoderTensor ToTensor(Graph graph)
        {
            float[] values = graph.Floats(this);
            if (!Transposed) return new EncoderTensor(Tensor.Dims.ToArray(), values);
            int rows = (int)Tensor.Dims[0], columns = (int)Tensor.Dims[1];
            var transposed = new float[values.Length];
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < columns; c++)
                    transposed[c * rows + r] = values[r * columns + c];
            }
            return new EncoderTensor([columns, rows], transposed);
        }
    }

    private sealed class Node(int index, NodeProto proto)
    {
        public int Index { get; } = index;
        public string OpType => proto.OpType;
        public IList<string> Inputs => proto.Input;
        public string Input(int slot) => slot < proto.Input.Count ? proto.Input[slot] : "";
        public string Output(int slot) => slot < proto.Output.Count ? proto.Output[slot] : "";
        public AttributeProto? Attribute(string name) => proto.Attribute.FirstOrDefault(a => a.Name == name);
        public override string ToString() => $"{OpType} node '{(proto.Name.Length > 0 ? proto.Name : Output(0))}' (#{Index})";
    }

    /// <summary>The nodes of a graph with producer and consumer links; lookups see through Identity nodes.</summary>
    private sealed class Graph
    {
        private readonly string _path;
        private readonly Dictionary<string, TensorProto> _constants = [];
        private readonly Dictionary<string, Node> _producers = [];
        private readonly Dictionary<string, List<(Node Node, int Slot)>> _consumers = [];

        public Graph(ModelProto model, string path)
        {
            _path = path;
            foreach (var initializer in model.Graph.Initializer) _constants[initializer.Name] = initializer;
            for (int i = 0; i < model.Graph.Node.Count; i++)
            {
                var proto = model.Graph.Node[i];
                var node = new Node(i, proto);
                Nodes.Add(node);
                foreach (var output in proto.Output) _producers[output] = node;
                for (int slot = 0; slot < proto.Input.Count; slot++)
                {
                    if (proto.Input[slot].Length == 0) continue;
                    if (!_consumers.TryGetValue(proto.Input[slot], out var list)) _consumers[proto.Input[slot]] = list = [];
                    list.Add((node, slot));
                }
                if (proto.OpType == "Constant" && proto.Output.Count == 1 && ConstantValue(proto) is { } value)
                    _constants[proto.Output[0]] = value;
            }
            Inputs = model.Graph.Input.Select(i => i.Name).Where(n => !_constants.ContainsKey(n)).ToList();
        }

        public List<Node> Nodes { get; } = [];
        public List<string> Inputs { get; }

        public InvalidDataException Error(string message) => new($"{_path}: {message}");

        /// <summary>The tensor a chain of Identity nodes ends in.</summary>
        public string Resolve(string tensor)
        {
            while (_producers.TryGetValue(tensor, out var node) && node.OpType == "Identity") tensor = node.Input(0);
            return tensor;
        }

        public string ResolveThroughCasts(string tensor)
        {
            while (_producers.TryGetValue(tensor, out var node) && node.OpType is "Identity" or "Cast") tensor = node.Input(0);
            return tensor;
        }

        public Node? Producer(string tensor) => _producers.GetValueOrDefault(Resolve(tensor));

        public List<(Node Node, int Slot)> Consumers(string tensor)
        {
            var result = new List<(Node, int)>();
            foreach (var (node, slot) in _consumers.GetValueOrDefault(tensor) ?? [])
            {
                if (node.OpType == "Identity") result.AddRange(Consumers(node.Output(0)));
                else result.Add((node, slot));
            }
            return result;
        }

        /// <summary>The initializer or Constant a tensor comes from, through Identity, Cast and 2-D Transpose nodes.</summary>
        public Weight? Source(string tensor)
        {
            bool transposed = false;
            for (int step = 0; step < 32 && tensor.Length > 0; step++)
            {
                if (_constants.TryGetValue(tensor, out var constant)) return new Weight(tensor, constant, transposed);
                if (!_producers.TryGetValue(tensor, out var node)) return null;
                if (node.OpType == "Transpose")
                {
                    var perm = node.Attribute("perm")?.Ints;
                    if (perm is not null && !(perm.Count == 2 && perm[0] == 1 && perm[1] == 0)) return null;
                    transposed = !transposed;
                }
                else if (node.OpType is not ("Identity" or "Cast")) return null;
                tensor = node.Input(0);
            }
            return null;
        }

        public float[] Floats(Weight weight)
        {
            var tensor = weight.Tensor;
            if (tensor.DataType != (int)OnnxElementType.Float)
                throw Error($"tensor '{weight.Source}' {Text(tensor.Dims.ToArray())} has ONNX element type {tensor.DataType}; only float32 weights are supported.");
            if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
                throw Error($"tensor '{weight.Source}' is stored as external data, which is not supported.");
            float[] values = tensor.RawData.Length > 0
                ? MemoryMarshal.Cast<byte, float>(LittleEndian(tensor.RawData.Span, sizeof(float))).ToArray()
                : tensor.FloatData.ToArray();
            if (values.Length != weight.Count || tensor.RawData.Length % sizeof(float) != 0)
                throw Error($"tensor '{weight.Source}' {Text(tensor.Dims.ToArray())} holds {values.Length} values, not {weight.Count}.");
            return values;
        }

        public long[]? Integers(Weight weight)
        {
            var tensor = weight.Tensor;
            return tensor.DataType switch
            {
                (int)OnnxElementType.Int64 => tensor.RawData.Length > 0
                    ? MemoryMarshal.Cast<byte, long>(LittleEndian(tensor.RawData.Span, sizeof(long))).ToArray()
                    : tensor.Int64Data.ToArray(),
                (int)OnnxElementType.Int32 => tensor.RawData.Length > 0
                    ? Array.ConvertAll(MemoryMarshal.Cast<byte, int>(LittleEndian(tensor.RawData.Span, sizeof(int))).ToArray(), v => (long)v)
                    : tensor.Int32Data.Select(v => (long)v).ToArray(),
                _ => null,
            };
        }

        public double? ScalarValue(Weight weight)
        {
            var tensor = weight.Tensor;
            return tensor.DataType switch
            {
                (int)OnnxElementType.Float => Floats(weight) is [var f] ? FloatToDouble(f) : null,
                (int)OnnxElementType.Double => tensor.RawData.Length == sizeof(double)
                    ? BitConverter.ToDouble(LittleEndian(tensor.RawData.Span, sizeof(double)))
                    : tensor.DoubleData.Count == 1 ? tensor.DoubleData[0] : null,
                _ => null,
            };
        }

        private static ReadOnlySpan<byte> LittleEndian(ReadOnlySpan<byte> bytes, int size)
        {
            if (BitConverter.IsLittleEndian) return bytes;
            var copy = bytes.ToArray();
            for (int i = 0; i + size <= copy.Length; i += size) Array.Reverse(copy, i, size);
            return copy;
        }

        private static TensorProto? ConstantValue(NodeProto node)
        {
            foreach (var attribute in node.Attribute)
            {
                switch (attribute.Name)
                {
                    case "value": return attribute.T;
                    case "value_float": return new TensorProto { DataType = (int)OnnxElementType.Float, FloatData = { attribute.F } };
                    case "value_floats": return new TensorProto { DataType = (int)OnnxElementType.Float, Dims = { attribute.Floats.Count }, FloatData = { attribute.Floats } };
                    case "value_int": return new TensorProto { DataType = (int)OnnxElementType.Int64, Int64Data = { attribute.I } };
                    case "value_ints": return new TensorProto { DataType = (int)OnnxElementType.Int64, Dims = { attribute.Ints.Count }, Int64Data = { attribute.Ints } };
                }
            }
            return null;
        }
    }
}
