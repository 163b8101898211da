using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;

namespace Microsoft.ML.PaperExtensions.Categorical;

/// <summary>
/// Treatment (dummy) coding of categorical columns, as R's <c>model.matrix</c> does for a factor: a column with K levels
/// becomes a vector of K - 1 indicators, one per level after the first, which is the reference and codes as all zeros.
/// Statistical models with an intercept need this coding; one-hot coding (ML.NET's <c>OneHotEncoding</c>) is collinear with
/// the intercept.
/// </summary>
/// <remarks>
/// <para>Input columns: text, Single or Double scalars. Output columns: known-size vectors of Single with the level names as
/// slot names.</para>
/// <para>Levels are the ones given, else those found by <c>Fit</c>: numbers in ascending order when every value is a number,
/// else in order of first appearance (give <see cref="ColumnOptions.Levels"/> to choose the reference level). A value that
/// <c>Fit</c> did not see codes as all zeros, as ML.NET's own one-hot coding codes unseen values.</para>
/// <para>The fitted transformer is a chain of ML.NET's <c>MapValueToKey</c> and <c>MapKeyToVector</c>: a saved model loads
/// with plain ML.NET.</para>
/// </remarks>
public sealed class TreatmentCodingEstimator : IEstimator<TreatmentCodingTransformer>
{
    /// <summary>One column to code.</summary>
    /// <param name="OutputColumnName">The indicator vector's column.</param>
    /// <param name="InputColumnName">The categorical column; null means the output name.</param>
    /// <param name="Levels">The levels in order, the first being the reference; null finds them in the data.</param>
    public sealed record ColumnOptions(string OutputColumnName, string? InputColumnName = null, IReadOnlyList<string>? Levels = null)
    {
        /// <summary>The input column.</summary>
        public string Input => InputColumnName ?? OutputColumnName;
    }

    private readonly IReadOnlyList<ColumnOptions> _columns;

    internal TreatmentCodingEstimator(IReadOnlyList<ColumnOptions> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Count == 0) throw new ArgumentException("Name at least one column to code.", nameof(columns));
        foreach (var c in columns)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(c.OutputColumnName, nameof(columns));
            if (c.Levels is { } levels && (levels.Count < 2 || levels.Distinct(StringComparer.Ordinal).Count() != levels.Count))
            {
                throw new ArgumentException($"The levels of column '{c.Input}' must be at least two distinct values, but are: {string.Join(", ", levels)}.", nameof(columns));
            }
        }
        _columns = columns;
    }

    private InputColumns Inputs()
    {
        var inputs = new InputColumns();
        foreach (var c in _columns) inputs.Add("categorical", nameof(ColumnOptions.InputColumnName), c.Input, ColumnTypes.Text | ColumnTypes.SingleOrDouble);
        return inputs;
    }

    /// <summary>Finds the levels of every column (unless given) and builds the coding.</summary>
    public TreatmentCodingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Inputs().Check(input.Schema);
        var ml = new MLContext();
        var levels = _columns.Select(c => c.Levels ?? FindLevels(input, c.Input)).ToList();
        IEstimator<ITransformer>? chain = null;
        for (var i = 0; i < _columns.Count; i++)
        {
            var c = _columns[i];
            if (levels[i].Count < 2)
            {
                throw new ArgumentException($"Categorical column '{c.Input}' has only one level ('{levels[i][0]}'); it carries no information.", nameof(ColumnOptions.InputColumnName));
            }
            var type = input.Schema[c.Input].Type;
            var keyData = KeyData(ml, type, levels[i].Skip(1).ToList());
            var step = ml.Transforms.Conversion.MapValueToKey(c.OutputColumnName, c.Input, keyData: keyData)
                .Append(ml.Transforms.Conversion.MapKeyToVector(c.OutputColumnName, c.OutputColumnName));
            chain = chain is null ? step : chain.Append(step);
        }
        var transformer = chain!.Fit(input);
        return new TreatmentCodingTransformer(transformer, _columns.Select((c, i) => (c.Input, c.OutputColumnName, levels[i])).ToList());
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        Inputs().Check(inputSchema);
        return SchemaShapes.With(inputSchema, _columns.Select(c => SchemaShapes.Vector(c.OutputColumnName, NumberDataViewType.Single)).ToArray());
    }

    /// <summary>Distinct values: ascending numbers when all are numbers, else text in order of first appearance.</summary>
    private static IReadOnlyList<string> FindLevels(IDataView data, string columnName)
    {
        var column = data.Schema[columnName];
        var seen = new List<string>();
        var known = new HashSet<string>(StringComparer.Ordinal);
        using var cursor = data.GetRowCursor([column]);
        Func<string> read = column.Type switch
        {
            TextDataViewType => Getter<ReadOnlyMemory<char>>(cursor, column, v => v.ToString()),
            _ when column.Type == NumberDataViewType.Single => Getter<float>(cursor, column, v => v.ToString("R", CultureInfo.InvariantCulture)),
            _ => Getter<double>(cursor, column, v => v.ToString("R", CultureInfo.InvariantCulture)),
        };
        while (cursor.MoveNext())
        {
            var value = read();
            if (known.Add(value)) seen.Add(value);
        }
        if (seen.Count == 0) throw new ArgumentException($"Categorical column '{columnName}' has no rows.", nameof(ColumnOptions.InputColumnName));
        var numbers = seen.Select(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : (double?)null).ToList();
        return numbers.All(n => n is not null) ? seen.OrderBy(v => double.Parse(v, CultureInfo.InvariantCulture)).ToList() : seen;
    }

    private static Func<string> Getter<T>(DataViewRowCursor cursor, DataViewSchema.Column column, Func<T, string> format)
    {
        var getter = cursor.GetGetter<T>(column);
        var value = default(T)!;
        return () => { getter(ref value); return format(value); };
    }

    private static IDataView KeyData(MLContext ml, DataViewType type, IReadOnlyList<string> levels) => type switch
    {
        TextDataViewType => ml.Data.LoadFromEnumerable(levels.Select(l => new TextLevel { Value = l })),
        _ when type == NumberDataViewType.Single => ml.Data.LoadFromEnumerable(levels.Select(l => new SingleLevel { Value = float.Parse(l, CultureInfo.InvariantCulture) })),
        _ => ml.Data.LoadFromEnumerable(levels.Select(l => new DoubleLevel { Value = double.Parse(l, CultureInfo.InvariantCulture) })),
    };

    private sealed class TextLevel { public string Value { get; set; } = ""; }

    private sealed class SingleLevel { public float Value { get; set; } }

    private sealed class DoubleLevel { public double Value { get; set; } }
}

/// <summary>
/// Fitted treatment coding: each categorical column becomes K - 1 Single indicators (see <see cref="TreatmentCodingEstimator"/>).
/// Saves as ML.NET's own transformers.
/// </summary>
public sealed class TreatmentCodingTransformer : ITransformer
{
    private readonly ITransformer _inner;

    internal TreatmentCodingTransformer(ITransformer inner, IReadOnlyList<(string Input, string Output, IReadOnlyList<string> Levels)> columns)
    {
        _inner = inner;
        Levels = columns.ToDictionary(c => c.Input, c => c.Levels);
        Columns = columns.Select(c => (c.Input, c.Output)).ToList();
    }

    /// <summary>The levels of each input column, the reference first.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Levels { get; }

    /// <summary>The coded columns: input and output names.</summary>
    public IReadOnlyList<(string Input, string Output)> Columns { get; }

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _inner.GetOutputSchema(inputSchema);

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => _inner.GetRowToRowMapper(inputSchema);

    /// <inheritdoc />
    public IDataView Transform(IDataView input) => _inner.Transform(input);

    /// <summary>Saves the chain of ML.NET transformers; it loads back with plain ML.NET.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => _inner.Save(ctx);
}
