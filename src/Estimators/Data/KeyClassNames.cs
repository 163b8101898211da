using System.Globalization;
using Microsoft.ML.Data;

namespace Microsoft.ML.PaperExtensions.Data;

/// <summary>Class names of a key-typed label column, read from its key values.</summary>
internal static class KeyClassNames
{
    private const string KeyValues = "KeyValues";

    /// <summary>The key values of a key column as text (its class names), or "1".."K" when it has none or they repeat.</summary>
    public static string[] Read(DataViewSchema.Column column, int count)
    {
        if (column.Annotations.Schema.GetColumnOrNull(KeyValues) is { Type: VectorDataViewType vector })
        {
            var read = typeof(KeyClassNames).GetMethod(nameof(ReadValues), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                .MakeGenericMethod(vector.ItemType.RawType);
            var names = (string[])read.Invoke(null, [column])!;
            if (names.Length == count && names.Distinct(StringComparer.Ordinal).Count() == count) return names;
        }
        return Enumerable.Range(1, count).Select(k => k.ToString(CultureInfo.InvariantCulture)).ToArray();
    }

    private static string[] ReadValues<T>(DataViewSchema.Column column)
    {
        var values = default(VBuffer<T>);
        column.Annotations.GetValue(KeyValues, ref values);
        return values.DenseValues().Select(v => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "").ToArray();
    }
}
