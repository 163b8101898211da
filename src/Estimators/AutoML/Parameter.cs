using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;

namespace Microsoft.ML.PaperExtensions.AutoML;

/// <summary>
/// One point of a <see cref="SearchSpace"/>: option names (sorted) to values (numbers, text, Booleans, enum members, or a
/// nested <see cref="Parameter"/>). Immutable; two parameters with the same values are equal.
/// </summary>
public sealed class Parameter : IReadOnlyDictionary<string, object>, IEquatable<Parameter>
{
    private readonly SortedDictionary<string, object> _values;

    /// <summary>Creates a parameter from name-value pairs.</summary>
    public Parameter(IEnumerable<KeyValuePair<string, object>> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        _values = new SortedDictionary<string, object>(StringComparer.Ordinal);
        foreach (var (key, value) in values) _values.Add(key, value ?? throw new ArgumentNullException(nameof(values), $"Parameter '{key}' is null."));
    }

    /// <summary>The empty parameter (a search space without options).</summary>
    public static Parameter Empty { get; } = new([]);

    /// <summary>The value of an option.</summary>
    /// <exception cref="KeyNotFoundException">The parameter has no option of that name.</exception>
    public object this[string key] => _values.TryGetValue(key, out var value) ? value
        : throw new KeyNotFoundException($"The parameter has no option '{key}' (it has: {string.Join(", ", _values.Keys)}).");

    /// <inheritdoc />
    public IEnumerable<string> Keys => _values.Keys;

    /// <inheritdoc />
    public IEnumerable<object> Values => _values.Values;

    /// <inheritdoc />
    public int Count => _values.Count;

    /// <inheritdoc />
    public bool ContainsKey(string key) => _values.ContainsKey(key);

    /// <inheritdoc />
    public bool TryGetValue(string key, out object value) => _values.TryGetValue(key, out value!);

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, object>> GetEnumerator() => _values.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A new <typeparamref name="TOptions"/> with the parameter's values set on its properties of the same names.</summary>
    public TOptions AsType<TOptions>() where TOptions : class, new() => ApplyTo(new TOptions());

    /// <summary>
    /// Sets the parameter's values on the properties of the same names of <paramref name="options"/> (nested parameters on
    /// nested option objects, created when null) and returns it. Numbers convert to the property's numeric type, text to an
    /// enum member by name.
    /// </summary>
    /// <exception cref="ArgumentException">A name is not a writable property of the options, or a value does not convert to its type.</exception>
    public TOptions ApplyTo<TOptions>(TOptions options) where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(options);
        var type = options.GetType();
        foreach (var (key, value) in _values)
        {
            var property = type.GetProperty(key, BindingFlags.Public | BindingFlags.Instance);
            if (property is null || !property.CanWrite)
                throw new ArgumentException($"Parameter '{key}' names no writable property of {type.Name}.", nameof(options));
            if (value is Parameter nested)
            {
                var target = property.GetValue(options) ?? Activator.CreateInstance(property.PropertyType)
                    ?? throw new ArgumentException($"Option {type.Name}.{key} cannot be created for nested parameter values.", nameof(options));
                property.SetValue(options, nested.ApplyTo(target));
                continue;
            }
            property.SetValue(options, Convert(value, property.PropertyType, $"{type.Name}.{key}"));
        }
        return options;
    }

    private static object Convert(object value, Type target, string name)
    {
        var type = Nullable.GetUnderlyingType(target) ?? target;
        try
        {
            if (type.IsInstanceOfType(value)) return value;
            if (type.IsEnum) return value is string text ? Enum.Parse(type, text, ignoreCase: false) : Enum.ToObject(type, value);
            if (type == typeof(int) && value is double d && d != Math.Round(d)) throw new InvalidCastException();
            return System.Convert.ChangeType(value, type, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is InvalidCastException or FormatException or OverflowException or ArgumentException)
        {
            throw new ArgumentException($"Parameter value {value} ({value.GetType().Name}) does not convert to option {name} of type {type.Name}.", nameof(value), e);
        }
    }

    /// <inheritdoc />
    public bool Equals(Parameter? other) =>
        other is not null && other.Count == Count && _values.All(p => other._values.TryGetValue(p.Key, out var v) && ValueEquals(p.Value, v));

    private static bool ValueEquals(object a, object b) => a is double x && b is double y ? x.Equals(y) : a.Equals(b);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as Parameter);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var (key, value) in _values)
        {
            hash.Add(key);
            hash.Add(value);
        }
        return hash.ToHashCode();
    }

    /// <summary>Compact JSON: <c>{"Lambda":0.01,"Trainer":"Presto"}</c>, numbers in invariant culture with round-trip precision.</summary>
    public override string ToString()
    {
        var text = new StringBuilder("{");
        foreach (var (key, value) in _values)
        {
            if (text.Length > 1) text.Append(',');
            text.Append(Quote(key)).Append(':').Append(value switch
            {
                Parameter nested => nested.ToString(),
                bool b => b ? "true" : "false",
                double d => d.ToString("R", CultureInfo.InvariantCulture),
                float f => f.ToString("R", CultureInfo.InvariantCulture),
                IFormattable number when value is int or long => number.ToString(null, CultureInfo.InvariantCulture),
                _ => Quote(value.ToString() ?? ""),
            });
        }
        return text.Append('}').ToString();
    }

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
