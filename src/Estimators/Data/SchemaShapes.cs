using System.Reflection;
using Microsoft.ML.Data;

namespace Microsoft.ML.PaperExtensions.Data;

/// <summary>
/// Builds <see cref="SchemaShape"/> columns for <c>IEstimator.GetOutputSchema</c>. ML.NET keeps
/// <see cref="SchemaShape.Column"/>'s constructor internal and offers no public factory, so this calls that constructor
/// by reflection, in this one place; a changed ML.NET fails here with a clear message.
/// </summary>
internal static class SchemaShapes
{
    private static readonly ConstructorInfo ColumnConstructor =
        typeof(SchemaShape.Column).GetConstructor(
            BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, null,
            [typeof(string), typeof(SchemaShape.Column.VectorKind), typeof(DataViewType), typeof(bool), typeof(SchemaShape)], null)
        ?? throw new MissingMethodException("This version of ML.NET has no SchemaShape.Column(string, VectorKind, DataViewType, bool, SchemaShape) constructor.");

    private static readonly SchemaShape KeyValuesAnnotation =
        new([Create(AnnotationNames.KeyValues, SchemaShape.Column.VectorKind.Vector, TextDataViewType.Instance, false, null)]);

    /// <summary>A scalar column.</summary>
    public static SchemaShape.Column Scalar(string name, PrimitiveDataViewType type) =>
        Create(name, SchemaShape.Column.VectorKind.Scalar, type, false, null);

    /// <summary>A known-size vector column.</summary>
    public static SchemaShape.Column Vector(string name, PrimitiveDataViewType itemType) =>
        Create(name, SchemaShape.Column.VectorKind.Vector, itemType, false, null);

    /// <summary>A scalar UInt32 key column with text key values (class names).</summary>
    public static SchemaShape.Column Key(string name) =>
        Create(name, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, true, KeyValuesAnnotation);

    /// <summary>The shape of a schema's visible columns, as ML.NET's internal <c>SchemaShape.Create</c> computes it.</summary>
    public static SchemaShape FromSchema(DataViewSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        return new SchemaShape(schema.Where(c => !c.IsHidden).Select(c => FromColumn(c.Name, c.Type, AnnotationsShape(c.Annotations.Schema))));
    }

    private static SchemaShape AnnotationsShape(DataViewSchema annotations) =>
        new(annotations.Select(a => FromColumn(a.Name, a.Type, null)));

    private static SchemaShape.Column FromColumn(string name, DataViewType type, SchemaShape? annotations)
    {
        var kind = type is VectorDataViewType vector
            ? vector.IsKnownSize ? SchemaShape.Column.VectorKind.Vector : SchemaShape.Column.VectorKind.VariableVector
            : SchemaShape.Column.VectorKind.Scalar;
        var item = type is VectorDataViewType v ? v.ItemType : type;
        // SchemaShape describes a key by its raw number type plus IsKey.
        return item is KeyDataViewType key
            ? Create(name, kind, KeyRawType(key), true, annotations)
            : Create(name, kind, item, false, annotations);
    }

    /// <summary><paramref name="input"/> with <paramref name="added"/> appended; a column of the same name is replaced.</summary>
    public static SchemaShape With(SchemaShape input, params SchemaShape.Column[] added)
    {
        var names = added.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        return new SchemaShape(input.Where(c => !names.Contains(c.Name)).Concat(added));
    }

    private static NumberDataViewType KeyRawType(KeyDataViewType key) => key.RawType switch
    {
        var t when t == typeof(byte) => NumberDataViewType.Byte,
        var t when t == typeof(ushort) => NumberDataViewType.UInt16,
        var t when t == typeof(uint) => NumberDataViewType.UInt32,
        _ => NumberDataViewType.UInt64,
    };

    /// <summary>How a column reads in an error message: "Single", "Vector&lt;Single&gt;", "Vector&lt;Single&gt; of unknown size", "Key&lt;UInt32&gt;".</summary>
    public static string Describe(SchemaShape.Column column)
    {
        var item = column.IsKey ? $"Key<{column.ItemType}>" : $"{column.ItemType}";
        return column.Kind switch
        {
            SchemaShape.Column.VectorKind.Vector => $"Vector<{item}>",
            SchemaShape.Column.VectorKind.VariableVector => $"Vector<{item}> of unknown size",
            _ => item,
        };
    }

    private static SchemaShape.Column Create(string name, SchemaShape.Column.VectorKind kind, DataViewType itemType, bool isKey, SchemaShape? annotations) =>
        (SchemaShape.Column)ColumnConstructor.Invoke([name, kind, itemType, isKey, annotations]);

    private static class AnnotationNames
    {
        public const string KeyValues = "KeyValues";
    }
}
