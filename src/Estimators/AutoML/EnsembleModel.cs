using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Onnx;
using Onnx;

namespace Microsoft.ML.PaperExtensions.AutoML;

/// <summary>
/// A weighted average of fitted classifiers' class probabilities, as the AutoML experiment returns it when ensemble selection
/// beat its best single trial (<see cref="AutoMLExperiment.SetEnsemble"/>). It saves like any ML.NET model: a chain of the
/// members, a copy of each member's <c>Score</c>, the averaging as an ONNX graph, and a column drop, all ML.NET's own types.
/// </summary>
/// <remarks>
/// <para>Input: what every member reads (the feature column its pipeline was fitted on).</para>
/// <para>Output columns:</para>
/// <list type="table">
/// <item><term>Score</term><description>Vector of K Single class probabilities: the weighted mean of the members' <c>Score</c> columns.</description></item>
/// <item><term>PredictedLabel</term><description>Key column (key values = class names): the class of the largest mean probability; the missing key for a row any member could not score (NaN).</description></item>
/// </list>
/// <para>Other columns the members write (a member's <c>RareClassProbability</c>, <c>CrossingRepaired</c>, ...) describe one
/// member, not the ensemble, and are dropped.</para>
/// </remarks>
public sealed class EnsembleModel : ITransformer, ICanSaveModel, IDisposable
{
    private const string MemberScorePrefix = "Ensemble.Score.";
    private readonly TransformerChain<ITransformer> _chain;
    private readonly ProbabilityAverager _averager;

    internal EnsembleModel(MLContext mlContext, IReadOnlyList<ITransformer> members, IReadOnlyList<double> weights, DataViewSchema inputSchema, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(inputSchema);
        if (members.Count != weights.Count || members.Count < 2)
            throw new ArgumentException($"An ensemble needs at least two members with one weight each, but has {members.Count} members and {weights.Count} weights.", nameof(weights));
        if (weights.Any(w => !(w > 0)))
            throw new ArgumentOutOfRangeException(nameof(weights), string.Join(", ", weights), "Ensemble weights must be positive.");
        Members = members;
        var total = weights.Sum();
        Weights = [.. weights.Select(w => w / total)];

        var steps = new List<ITransformer>();
        var schema = inputSchema;
        var memberOutputs = new HashSet<string>(StringComparer.Ordinal);
        void Add(ITransformer step)
        {
            steps.Add(step);
            schema = step.GetOutputSchema(schema);
        }
        for (var i = 0; i < members.Count; i++)
        {
            var before = schema;
            Add(members[i]);
            memberOutputs.UnionWith(schema.Where(c => !c.IsHidden && before.GetColumnOrNull(c.Name) is null).Select(c => c.Name));
            Add(mlContext.Transforms.CopyColumns(MemberScorePrefix + i, ColumnNames.Score).Fit(new SchemaOnlyDataView(schema)));
        }
        _averager = new ProbabilityAverager(mlContext, Weights, schema, [.. Enumerable.Range(0, members.Count).Select(i => MemberScorePrefix + i)], classNames);
        Add(_averager);
        memberOutputs.ExceptWith([ColumnNames.Score, ColumnNames.PredictedLabel]);
        Add(mlContext.Transforms.DropColumns([.. Enumerable.Range(0, members.Count).Select(i => MemberScorePrefix + i), .. memberOutputs.Order(StringComparer.Ordinal)])
            .Fit(new SchemaOnlyDataView(schema)));
        _chain = new TransformerChain<ITransformer>([.. steps]);
    }

    /// <summary>The fitted members, each a whole pipeline from the input columns to its <c>Score</c>.</summary>
    public IReadOnlyList<ITransformer> Members { get; }

    /// <summary>Each member's share of the average, in member order; they sum to 1.</summary>
    public IReadOnlyList<double> Weights { get; }

    /// <inheritdoc />
    public bool IsRowToRowMapper => ((ITransformer)_chain).IsRowToRowMapper;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _chain.GetOutputSchema(inputSchema);

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => ((ITransformer)_chain).GetRowToRowMapper(inputSchema);

    /// <summary>Scores every member and averages their class probabilities.</summary>
    public IDataView Transform(IDataView input) => _chain.Transform(input);

    /// <summary>Saves the chain of ML.NET transformers (members, copies, the averaging graph); it loads back with plain ML.NET.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => ((ICanSaveModel)_chain).Save(ctx);

    /// <summary>The averaging graph alone (inputs: one K-probability column per member), for ONNX Runtime.</summary>
    public void SaveAveragingAsOnnx(Stream stream) => _averager.SaveAsOnnx(stream);

    /// <inheritdoc />
    public void Dispose() => _chain.Dispose();

    /// <summary>The weighted mean of several probability columns, and its arg max as a key.</summary>
    private sealed class ProbabilityAverager(MLContext mlContext, IReadOnlyList<double> weights, DataViewSchema inputSchema, IReadOnlyList<string> scoreColumns, IReadOnlyList<string> classNames)
        : OnnxBackedTransformer(mlContext, BuildGraph(weights, inputSchema, scoreColumns, classNames.Count), inputSchema, Outputs, classNames)
    {
        private static readonly IReadOnlyList<PredictionColumn> Outputs = [PredictionColumn.Vector(ColumnNames.Score), PredictionColumn.Key(ColumnNames.PredictedLabel)];

        private static ModelProto BuildGraph(IReadOnlyList<double> weights, DataViewSchema inputSchema, IReadOnlyList<string> scoreColumns, int classCount)
        {
            var g = new OnnxGraphBuilder("ensemble_average");
            var terms = scoreColumns.Select((name, i) =>
            {
                var type = inputSchema[name].Type;
                if (type is not VectorDataViewType { Size: var size } || size != classCount)
                    throw new ArgumentException($"Member {i + 1}'s Score column is {type}; an ensemble of {classCount} classes needs a vector of {classCount} probabilities.", nameof(inputSchema));
                return g.AddNode("Mul", [g.AddColumnInput(name, type, OnnxElementType.Float), g.AddInitializer(g.NewName("weight"), [(float)weights[i]], 1)]);
            }).ToList();
            var mean = g.AddNode("Sum", terms, ColumnNames.Score);
            g.PredictedIndex(mean, ColumnNames.PredictedLabel);
            foreach (var column in Outputs) g.AddOutput(column, classCount);
            return g.Build();
        }
    }
}
