using Google.Protobuf;
using Microsoft.ML.Data;
using Onnx;

namespace Microsoft.ML.PaperExtensions.Onnx;

/// <summary>
/// Base of every fitted model in this package: the prediction function is an ONNX graph run by ML.NET's own
/// <c>OnnxTransformer</c>, so <c>mlContext.Model.Save</c> writes an ordinary ML.NET model that loads with plain ML.NET
/// plus Microsoft.ML.OnnxTransformer, and <see cref="SaveAsOnnx"/> exports the graph for ONNX Runtime in any language.
/// </summary>
/// <remarks>
/// <para>
/// Derived types build the graph with the symbolic batch dimension first on every input and output: an output of shape
/// [N] becomes a scalar column, [N, k] a vector column of size k. Inputs are declared [N, k] for vector columns and
/// [N, 1] for scalar columns, as ML.NET feeds them (see <see cref="OnnxGraphBuilder.AddColumnInput"/>).
/// </para>
/// <para>
/// ML.NET feeds ONNX models one row at a time and cannot read rank-0 outputs, so the graph handed to ML.NET reshapes
/// every output to its per-row shape ([1] for scalars), and built-in ML.NET transformers after it turn one-slot vectors
/// into scalars (see <c>ScalarColumns</c>), class indices into key columns with class names, and 0/1 into Booleans. The result is one
/// <see cref="TransformerChain{TLastTransformer}"/> of ML.NET's own types, which is what gets saved.
/// </para>
/// </remarks>
public abstract class OnnxBackedTransformer : ITransformer, IDisposable
{
    private const string OnnxSuffix = "__onnx";
    private readonly ModelProto _model;
    private readonly TransformerChain<ITransformer> _scorer;
    private readonly IReadOnlyList<PredictionColumn> _outputs;
    private readonly int _graphSteps;
    private readonly Lazy<OnnxSession> _session;
    private readonly Dictionary<string, DataViewType> _inputTypes;

    /// <summary>Wraps a batched ONNX prediction graph.</summary>
    /// <param name="mlContext">The ML.NET context.</param>
    /// <param name="model">
    /// The graph; its input names are column names of <paramref name="inputSchema"/>, its outputs are <paramref name="outputs"/>.
    /// Data given to the transformer must hold those columns with the types they had in <paramref name="inputSchema"/>.
    /// </param>
    /// <param name="inputSchema">The schema the transformer was fitted on (only the schema is used; no rows are read).</param>
    /// <param name="outputs">
    /// The graph's outputs, in the graph's order. A key output holds 1-based class indices and becomes a key column whose key
    /// values are <paramref name="classNames"/> (as ML.NET's <c>PredictedLabel</c>); a Boolean output holds 0 or 1. Scalar
    /// outputs pass through a temporary <c>Score</c> column, so a graph with scalar outputs and no <c>Score</c> output hides
    /// an input column named <c>Score</c>.
    /// </param>
    /// <param name="classNames">The class names of the key output, in index order.</param>
    /// <param name="followers">
    /// Fitted ML.NET transformers that run after the graph on its output (for example an ML.NET predictor reading a feature
    /// column the graph computes); they are saved with the rest.
    /// </param>
    /// <param name="dropAfterFollowers">Intermediate columns to drop at the end (for example the followers' input).</param>
    private protected OnnxBackedTransformer(MLContext mlContext, ModelProto model, DataViewSchema inputSchema, IReadOnlyList<PredictionColumn> outputs,
        IReadOnlyList<string>? classNames = null, IReadOnlyList<ITransformer>? followers = null, IReadOnlyList<string>? dropAfterFollowers = null)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputSchema);
        ArgumentNullException.ThrowIfNull(outputs);
        var declared = outputs.Select(o => o.Name).ToList();
        var emitted = model.Graph.Output.Select(o => o.Name).ToList();
        if (!declared.SequenceEqual(emitted))
        {
            throw new ArgumentException($"The graph's outputs ({string.Join(", ", emitted)}) are not the declared prediction columns ({string.Join(", ", declared)}).", nameof(outputs));
        }
        if (outputs.Any(o => o.Kind == PredictionKind.Key) && classNames is null)
        {
            throw new ArgumentNullException(nameof(classNames), "A key output needs its class names.");
        }
        _model = model.Clone();
        _inputTypes = model.Graph.Input.ToDictionary(i => i.Name, i => inputSchema.GetColumnOrNull(i.Name)?.Type
            ?? throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Graph input '{i.Name}' is not a column of the input schema."));
        var keyOutputs = outputs.Where(o => o.Kind == PredictionKind.Key).ToDictionary(o => o.Name, _ => classNames!);
        var booleanOutputs = outputs.Where(o => o.Kind == PredictionKind.Boolean).Select(o => o.Name).ToList();
        (_scorer, _graphSteps) = BuildScorer(mlContext, model, inputSchema, keyOutputs, booleanOutputs, followers ?? [], dropAfterFollowers ?? []);
        _outputs = outputs;
        _session = new Lazy<OnnxSession>(() => new OnnxSession(_model), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The batched ONNX graph behind this transformer (a copy).</summary>
    public ModelProto OnnxModel => _model.Clone();

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <summary>Writes the batched ONNX graph, usable from ONNX Runtime without ML.NET: inputs [N, k], outputs [N] or [N, k].</summary>
    public void SaveAsOnnx(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _model.WriteTo(stream);
    }

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        CheckInputSchema(inputSchema);
        return _scorer.GetOutputSchema(inputSchema);
    }

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        CheckInputSchema(inputSchema);
        return ((ITransformer)_scorer).GetRowToRowMapper(inputSchema);
    }

    /// <summary>
    /// Scores <paramref name="input"/> lazily, running the batched graph over blocks of rows in one ONNX Runtime session
    /// (the saved model runs the same graph through ML.NET's <c>OnnxTransformer</c>, one row at a time; tests assert that both
    /// give the same columns, types and values).
    /// </summary>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckInputSchema(input.Schema);
        var steps = _scorer.ToArray();
        var graphSchema = new TransformerChain<ITransformer>(steps[.._graphSteps]).GetOutputSchema(input.Schema);
        IDataView view = new BatchScoringDataView(input, _session.Value, graphSchema, _outputs);
        foreach (var follower in steps[_graphSteps..]) view = follower.Transform(view);
        return view;
    }

    /// <summary>Scores through the saved chain: ML.NET's <c>OnnxTransformer</c>, row by row (what a loaded model does).</summary>
    internal IDataView TransformRowByRow(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckInputSchema(input.Schema);
        return _scorer.Transform(input);
    }

    /// <summary>Saves the chain of ML.NET transformers that runs the graph; it loads back with plain ML.NET.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => ((ICanSaveModel)_scorer).Save(ctx);

    /// <summary>Checks that the input schema holds the columns the graph reads, with the types it was fitted on; throws naming the column.</summary>
    private void CheckInputSchema(DataViewSchema inputSchema)
    {
        foreach (var (name, type) in _inputTypes)
        {
            var column = inputSchema.GetColumnOrNull(name) ?? throw new ArgumentOutOfRangeException(nameof(inputSchema),
                $"Input column '{name}' was not found in the input schema (columns: {string.Join(", ", inputSchema.Where(c => !c.IsHidden).Select(c => c.Name))}).");
            if (!column.Type.Equals(type))
            {
                throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Input column '{name}' has the wrong type: expected {type} (as in training), but found {column.Type}.");
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _scorer.Dispose();
        if (_session.IsValueCreated) _session.Value.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The chain ML.NET saves, and how many of its steps run the graph and shape its outputs (the rest are followers).</summary>
    internal static (TransformerChain<ITransformer> Chain, int GraphSteps) BuildScorer(MLContext ml, ModelProto model, DataViewSchema inputSchema,
        IReadOnlyDictionary<string, IReadOnlyList<string>> keyOutputs, IReadOnlyCollection<string> booleanOutputs,
        IReadOnlyList<ITransformer> followers, IReadOnlyList<string> dropAfterFollowers)
    {
        var outputs = model.Graph.Output.Select(o => (o.Name, IsScalar: OnnxGraphBuilder.Shape(o).Length == 1)).ToList();
        foreach (var name in keyOutputs.Keys.Concat(booleanOutputs).Where(k => !outputs.Any(o => o.Name == k && o.IsScalar)))
        {
            throw new ArgumentException($"Key or Boolean output '{name}' must be a scalar output ([N]) of the graph.", nameof(model));
        }
        var scalars = outputs.Where(o => o.IsScalar).Select(o => o.Name).OrderBy(n => n == ScalarColumns.ScoreColumn).ToList();
        var temporaryScore = scalars.Count > 0 && !outputs.Any(o => o.Name == ScalarColumns.ScoreColumn);

        var chain = new List<ITransformer>();
        var schema = inputSchema;
        void Add(ITransformer transformer)
        {
            chain.Add(transformer);
            schema = transformer.GetOutputSchema(schema);
        }
        void Fit(IEstimator<ITransformer> estimator) => Add(estimator.Fit(new SchemaOnlyDataView(schema)));

        var perRow = PerRowModel(model).ToByteArray();
        Fit(ml.Transforms.ApplyOnnxModel(outputs.Select(o => o.Name + OnnxSuffix).ToArray(), model.Graph.Input.Select(i => i.Name).ToArray(),
            new MemoryStream(perRow), gpuDeviceId: null, fallbackToCpu: true));
        foreach (var name in scalars)
        {
            Add(ScalarColumns.FirstSlotToScore(ml, schema, name + OnnxSuffix));
            if (name != ScalarColumns.ScoreColumn)
            {
                Fit(ml.Transforms.CopyColumns(name, ScalarColumns.ScoreColumn));
            }
            if (keyOutputs.TryGetValue(name, out var classNames))
            {
                Fit(ClassIndexToKey(ml, name, classNames));
            }
            else if (booleanOutputs.Contains(name))
            {
                Fit(ml.Transforms.Conversion.ConvertType(name, name, Microsoft.ML.Data.DataKind.Boolean));
            }
        }
        foreach (var (name, _) in outputs.Where(o => !o.IsScalar))
        {
            Fit(ml.Transforms.CopyColumns(name, name + OnnxSuffix));
        }
        Fit(ml.Transforms.DropColumns(outputs.Select(o => o.Name + OnnxSuffix).Concat(temporaryScore ? [ScalarColumns.ScoreColumn] : []).ToArray()));
        var graphSteps = chain.Count;
        foreach (var follower in followers)
        {
            Add(follower);
        }
        if (dropAfterFollowers.Count > 0)
        {
            Fit(ml.Transforms.DropColumns(dropAfterFollowers.ToArray()));
        }
        return (new TransformerChain<ITransformer>(chain.ToArray()), graphSteps);
    }

    /// <summary>Maps 1-based class indices (Single) to a key column whose key values are the class names, in index order.</summary>
    private static IEstimator<ITransformer> ClassIndexToKey(MLContext ml, string columnName, IReadOnlyList<string> classNames)
    {
        if (classNames.Count == 0 || classNames.Distinct(StringComparer.Ordinal).Count() != classNames.Count)
        {
            throw new ArgumentException($"Class names of '{columnName}' must be distinct and non-empty: {string.Join(", ", classNames)}.", nameof(classNames));
        }
        var pairs = classNames.Select((name, i) => new KeyValuePair<float, string>(i + 1, name));
        var keyData = ml.Data.LoadFromEnumerable(classNames.Select(name => new ClassName { Name = name }));
        return ml.Transforms.Conversion.MapValue(columnName, pairs, columnName)
            .Append(ml.Transforms.Conversion.MapValueToKey(columnName, columnName, keyData: keyData));
    }

    private sealed class ClassName
    {
        public string Name { get; set; } = "";
    }

    /// <summary>
    /// The graph as ML.NET runs it: each output renamed with <see cref="OnnxSuffix"/> and reshaped to one row's shape
    /// ([N, k] to [k], [N] to [1] as Single).
    /// </summary>
    private static ModelProto PerRowModel(ModelProto batched)
    {
        var model = batched.Clone();
        var graph = model.Graph;
        var outputs = graph.Output.ToList();
        graph.Output.Clear();
        foreach (var output in outputs)
        {
            var shape = OnnxGraphBuilder.Shape(output);
            if (shape.Length == 0 || shape[0] != OnnxGraphBuilder.Batch || shape[1..].Any(d => d <= 0))
            {
                throw new ArgumentException($"ONNX output '{output.Name}' must be [N] or [N, k] with N symbolic, but is declared [{string.Join(", ", shape)}].", nameof(batched));
            }
            var isScalar = shape.Length == 1;
            long[] rowShape = isScalar ? [1] : shape[1..];
            var type = OnnxGraphBuilder.ElementType(output);
            var value = output.Name;
            if (isScalar && type != OnnxElementType.Float)
            {
                value = AddNode(graph, "Cast", [value], output.Name + "__float", OnnxGraphBuilder.Attribute("to", (long)OnnxElementType.Float));
                type = OnnxElementType.Float;
            }
            var shapeTensor = new TensorProto { Name = output.Name + "__row_shape", DataType = (int)OnnxElementType.Int64 };
            shapeTensor.Dims.Add(rowShape.Length);
            shapeTensor.Int64Data.AddRange(rowShape);
            graph.Initializer.Add(shapeTensor);
            AddNode(graph, "Reshape", [value, shapeTensor.Name], output.Name + OnnxSuffix);
            graph.Output.Add(OnnxGraphBuilder.ValueInfo(output.Name + OnnxSuffix, type, rowShape));
        }
        return model;
    }

    private static string AddNode(GraphProto graph, string opType, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return output;
    }
}
