using Microsoft.ML.Data;

namespace Microsoft.ML.PaperExtensions.Data;

/// <summary>What an input column may hold.</summary>
[Flags]
internal enum ColumnTypes
{
    None = 0,
    /// <summary>Single or Double.</summary>
    SingleOrDouble = 1,
    /// <summary>An integer type (signed or unsigned).</summary>
    Integer = 2,
    /// <summary>Boolean.</summary>
    Boolean = 4,
    /// <summary>A key.</summary>
    Key = 8,
    /// <summary>Text.</summary>
    Text = 16,
    /// <summary>A known-size vector of the item types above is allowed too (a scalar always is).</summary>
    Vector = 32,
    /// <summary>Single or Double, scalar or known-size vector: numeric features.</summary>
    Features = SingleOrDouble | Vector,
    /// <summary>Any number, as a scalar.</summary>
    Number = SingleOrDouble | Integer,
}

/// <summary>One input column an estimator reads: its role in messages, the option that names it, and what it may hold.</summary>
internal sealed record ColumnRule(string Role, string OptionName, string Name, ColumnTypes Types, string Expected);

/// <summary>
/// The input columns of an estimator, declared once: <c>GetOutputSchema</c> checks a <see cref="SchemaShape"/> and <c>Fit</c>
/// a <see cref="DataViewSchema"/> against the same rules (the latter through its shape), so the two cannot drift. Errors
/// name the column, what was expected and what was found, with the option's name as <see cref="ArgumentException.ParamName"/>.
/// Readers then check values only.
/// </summary>
internal sealed class InputColumns
{
    private readonly List<ColumnRule> _rules = [];

    public IReadOnlyList<ColumnRule> Rules => _rules;

    /// <summary>Adds a column. A null name is an error unless <paramref name="optional"/> (then nothing is added).</summary>
    public InputColumns Add(string role, string optionName, string? name, ColumnTypes types, string? expected = null, bool optional = false)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            if (optional && name is null) return this;
            throw new ArgumentException($"The {role} column name ({optionName}) must be given.", optionName);
        }
        _rules.Add(new ColumnRule(role, optionName, name, types, expected ?? Describe(types)));
        return this;
    }

    /// <summary>Numeric feature columns: Single or Double, scalar or known-size vector.</summary>
    public InputColumns Features(string optionName, IEnumerable<string> names, string role = "feature")
    {
        foreach (var name in names) Add(role, optionName, name, ColumnTypes.Features);
        return this;
    }

    /// <summary>An optional example-weight column: a Single or Double scalar.</summary>
    public InputColumns Weight(string optionName, string? name) =>
        Add("example weight", optionName, name, ColumnTypes.SingleOrDouble, optional: true);

    /// <summary>Checks a schema shape (GetOutputSchema).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has a type it may not have.</exception>
    public void Check(SchemaShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        foreach (var rule in _rules)
        {
            var column = Find(shape, rule);
            if (!Accepts(rule.Types, column))
            {
                throw new ArgumentOutOfRangeException(rule.OptionName,
                    $"{Capitalise(rule.Role)} column '{rule.Name}' has the wrong type: expected {rule.Expected}, but found {SchemaShapes.Describe(column)}.");
            }
        }
    }

    /// <summary>Checks a data schema (Fit) through its shape, so both checks apply the same rules.</summary>
    public void Check(DataViewSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        Check(SchemaShapes.FromSchema(schema));
    }

    private static SchemaShape.Column Find(SchemaShape shape, ColumnRule rule)
    {
        foreach (var column in shape)
        {
            if (column.Name == rule.Name) return column;
        }
        throw new ArgumentOutOfRangeException(rule.OptionName,
            $"{Capitalise(rule.Role)} column '{rule.Name}' was not found in the input schema (columns: {string.Join(", ", shape.Select(c => c.Name))}).");
    }

    private static bool Accepts(ColumnTypes types, SchemaShape.Column column)
    {
        var shapeOk = column.Kind == SchemaShape.Column.VectorKind.Scalar || (types.HasFlag(ColumnTypes.Vector) && column.Kind == SchemaShape.Column.VectorKind.Vector);
        if (!shapeOk) return false;
        if (column.IsKey) return types.HasFlag(ColumnTypes.Key);
        var item = column.ItemType;
        return item switch
        {
            BooleanDataViewType => types.HasFlag(ColumnTypes.Boolean),
            TextDataViewType => types.HasFlag(ColumnTypes.Text),
            NumberDataViewType when item == NumberDataViewType.Single || item == NumberDataViewType.Double => types.HasFlag(ColumnTypes.SingleOrDouble),
            NumberDataViewType => types.HasFlag(ColumnTypes.Integer),
            _ => false,
        };
    }

    /// <summary>"Single or Double, scalar or known-size vector", "a key, numeric or Boolean scalar", ...</summary>
    private static string Describe(ColumnTypes types)
    {
        if (types == ColumnTypes.Features) return "Single or Double, scalar or known-size vector";
        var kinds = new List<string>();
        if (types.HasFlag(ColumnTypes.Key)) kinds.Add("a key");
        if (types.HasFlag(ColumnTypes.SingleOrDouble) && types.HasFlag(ColumnTypes.Integer)) kinds.Add("numeric");
        else if (types.HasFlag(ColumnTypes.SingleOrDouble)) kinds.Add(kinds.Count == 0 ? "a Single or Double" : "Single or Double");
        else if (types.HasFlag(ColumnTypes.Integer)) kinds.Add("integer");
        if (types.HasFlag(ColumnTypes.Boolean)) kinds.Add("Boolean");
        if (types.HasFlag(ColumnTypes.Text)) kinds.Add("text");
        var list = kinds.Count <= 1 ? string.Join("", kinds) : string.Join(", ", kinds[..^1]) + " or " + kinds[^1];
        return list + (types.HasFlag(ColumnTypes.Vector) ? ", scalar or known-size vector" : " scalar");
    }

    private static string Capitalise(string role) => char.ToUpperInvariant(role[0]) + role[1..];
}
