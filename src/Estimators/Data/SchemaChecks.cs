using Microsoft.ML.Data;

namespace Microsoft.ML.PaperExtensions.Data;

/// <summary>
/// Schema validation shared by every estimator: the same checks run in <c>GetOutputSchema</c> (no data) and in <c>Fit</c>.
/// Each failure names the column's role, its name, what was expected and what was found.
/// </summary>
internal static class SchemaChecks
{
    /// <summary>The column, or an exception naming it when it is missing.</summary>
    public static DataViewSchema.Column Require(DataViewSchema schema, string role, string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException($"The {role} column name must be given.", role);
        }
        return schema.GetColumnOrNull(name) ?? throw new ArgumentOutOfRangeException(role, name,
            $"{Capitalise(role)} column '{name}' was not found in the input schema (columns: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => c.Name))}).");
    }

    /// <summary>Checks a feature column: a Single or Double scalar, or a known-size vector of them. Returns its width.</summary>
    public static int RequireFeature(DataViewSchema schema, string name, string role = "feature")
    {
        var column = Require(schema, role, name);
        var item = SchemaChecks.ItemType(column.Type);
        var width = column.Type is VectorDataViewType v ? v.Size : 1;
        if (item is not NumberDataViewType { RawType: var raw } || (raw != typeof(float) && raw != typeof(double)) || width == 0)
        {
            throw Mismatch(role, name, "Single or Double, scalar or known-size vector", column.Type);
        }
        return width;
    }

    /// <summary>Checks a label column against the kinds a component accepts; returns the kind found.</summary>
    public static LabelKind RequireLabel(DataViewSchema schema, string name, LabelKind allowed)
    {
        var column = Require(schema, "label", name);
        var kind = column.Type switch
        {
            KeyDataViewType => LabelKind.Key,
            BooleanDataViewType => LabelKind.Boolean,
            NumberDataViewType => LabelKind.Numeric,
            TextDataViewType => LabelKind.Text,
            _ => LabelKind.None,
        };
        if ((kind & allowed) == 0)
        {
            throw Mismatch("label", name, Describe(allowed), column.Type);
        }
        return kind;
    }

    /// <summary>Checks an example-weight column: a Single or Double scalar.</summary>
    public static void RequireWeight(DataViewSchema schema, string name)
    {
        var column = Require(schema, "example weight", name);
        if (column.Type is not NumberDataViewType { RawType: var raw } || (raw != typeof(float) && raw != typeof(double)))
        {
            throw Mismatch("example weight", name, "Single or Double scalar", column.Type);
        }
    }

    /// <summary>The item type of a vector type, or the type itself.</summary>
    public static DataViewType ItemType(DataViewType type) => type is VectorDataViewType vector ? vector.ItemType : type;

    /// <summary>The exception for a column of the wrong type.</summary>
    public static ArgumentOutOfRangeException Mismatch(string role, string name, string expected, DataViewType found) =>
        new(role, $"{Capitalise(role)} column '{name}' has the wrong type: expected {expected}, but found {found}.");

    private static string Describe(LabelKind kinds) =>
        string.Join(" or ", Enum.GetValues<LabelKind>().Where(k => k != LabelKind.None && kinds.HasFlag(k)).Select(k => k switch
        {
            LabelKind.Key => "a key",
            LabelKind.Boolean => "Boolean",
            LabelKind.Numeric => "a numeric scalar",
            LabelKind.Text => "text",
            _ => k.ToString(),
        }));

    private static string Capitalise(string role) => char.ToUpperInvariant(role[0]) + role[1..];
}

/// <summary>The label types a component accepts.</summary>
[Flags]
internal enum LabelKind
{
    /// <summary>No kind.</summary>
    None = 0,
    /// <summary>A key column; values are read as 0-based class indices.</summary>
    Key = 1,
    /// <summary>A Boolean column; read as 0 or 1.</summary>
    Boolean = 2,
    /// <summary>Any numeric scalar column; read as double.</summary>
    Numeric = 4,
    /// <summary>A text column; read as strings.</summary>
    Text = 8,
}
