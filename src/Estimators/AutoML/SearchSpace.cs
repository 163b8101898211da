using System.Collections;
using System.Reflection;

namespace Microsoft.ML.PaperExtensions.AutoML;

/// <summary>
/// Named options searched together, as Microsoft.ML.AutoML's <c>SearchSpace</c>: keys in ordinal order, one feature-space
/// coordinate per range or choice, nested spaces flattened in key order. Built from the <c>[Range]</c>, <c>[Choice]</c>,
/// <c>[BooleanChoice]</c> (and <c>[NestOption]</c>) attributes of an options class, then narrowed or extended in code:
/// <code>
/// var space = SearchSpace.FromOptions&lt;PrestoTrainer.Options&gt;();
/// space["LambdaMinRatio"] = new UniformDoubleOption(1e-3, 0.1, logBase: true);
/// space.Remove("NumberOfLambdas");
/// </code>
/// </summary>
public sealed class SearchSpace : OptionBase, IEnumerable<KeyValuePair<string, OptionBase>>
{
    private readonly SortedDictionary<string, OptionBase> _options = new(StringComparer.Ordinal);

    /// <summary>An empty space.</summary>
    public SearchSpace()
    {
    }

    /// <summary>A space of the given options.</summary>
    public SearchSpace(IEnumerable<KeyValuePair<string, OptionBase>> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var (key, option) in options) this[key] = option;
    }

    /// <summary>
    /// The space of the public properties of <typeparamref name="TOptions"/> that carry Microsoft.ML's search-space
    /// attributes: <c>[Range(min, max, init, logBase)]</c> on int, float or double properties, <c>[Choice(values, default)]</c>,
    /// <c>[BooleanChoice(default)]</c>, and <c>[NestOption]</c> on a property whose class has attributes of its own.
    /// </summary>
    /// <exception cref="ArgumentException">An attribute is on a property of a type it cannot set, or its arguments are invalid.</exception>
    public static SearchSpace FromOptions<TOptions>() => FromOptions(typeof(TOptions));

    /// <inheritdoc cref="FromOptions{TOptions}" />
    public static SearchSpace FromOptions(Type optionsType)
    {
        ArgumentNullException.ThrowIfNull(optionsType);
        var space = new SearchSpace();
        foreach (var property in optionsType.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            foreach (var attribute in property.GetCustomAttributesData())
            {
                if (attribute.AttributeType.Namespace != "Microsoft.ML.SearchSpace") continue;
                var arguments = attribute.ConstructorArguments.Select(Unwrap).ToArray();
                var where = $"{optionsType.Name}.{property.Name}";
                space[property.Name] = attribute.AttributeType.Name switch
                {
                    "RangeAttribute" => Range(arguments, property.PropertyType, where),
                    "ChoiceAttribute" => Choice(arguments, where),
                    "BooleanChoiceAttribute" => new ChoiceOption([true, false], arguments.Length > 0 ? arguments[0] : true),
                    "NestOptionAttribute" => FromOptions(property.PropertyType),
                    var other => throw new ArgumentException($"Search-space attribute {other} on {where} is not supported.", nameof(optionsType)),
                };
            }
        }
        return space;
    }

    private static object? Unwrap(CustomAttributeTypedArgument argument) =>
        argument.Value is IReadOnlyCollection<CustomAttributeTypedArgument> items ? items.Select(Unwrap).ToArray() : argument.Value;

    private static OptionBase Range(object?[] arguments, Type propertyType, string where)
    {
        var type = Nullable.GetUnderlyingType(propertyType) ?? propertyType;
        var log = arguments.Length is 3 or 4 && arguments[^1] is true;
        var init = arguments.Length == 4 ? arguments[2] : null;
        if (arguments[0] is int min && arguments[1] is int max)
        {
            if (type != typeof(int)) throw new ArgumentException($"An integer [Range] is on {where}, which is {type.Name}.", nameof(propertyType));
            return new UniformIntOption(min, max, log, (int?)init);
        }
        if (type != typeof(double) && type != typeof(float)) throw new ArgumentException($"A real [Range] is on {where}, which is {type.Name}.", nameof(propertyType));
        return new UniformDoubleOption(Convert.ToDouble(arguments[0]), Convert.ToDouble(arguments[1]), log, init is null ? null : Convert.ToDouble(init));
    }

    private static ChoiceOption Choice(object?[] arguments, string where)
    {
        var values = arguments[0] as object?[] ?? throw new ArgumentException($"[Choice] on {where} has no values.");
        return new ChoiceOption(values!, arguments.Length > 1 ? arguments[1] : null);
    }

    /// <summary>The option of a key; setting replaces it (or adds it), so a space can be narrowed or extended in code.</summary>
    /// <exception cref="KeyNotFoundException">Getting a key the space does not have.</exception>
    public OptionBase this[string key]
    {
        get => _options.TryGetValue(key, out var option) ? option
            : throw new KeyNotFoundException($"The search space has no option '{key}' (it has: {string.Join(", ", _options.Keys)}).");
        set
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(key);
            ArgumentNullException.ThrowIfNull(value);
            if (ReferenceEquals(value, this)) throw new ArgumentException("A search space cannot contain itself.", nameof(value));
            _options[key] = value;
        }
    }

    /// <summary>Removes an option (its property then keeps the value of the options the factory starts from).</summary>
    public bool Remove(string key) => _options.Remove(key);

    /// <summary>The keys, in ordinal order (the order of the feature-space coordinates).</summary>
    public IEnumerable<string> Keys => _options.Keys;

    /// <summary>Number of options (nested spaces count once).</summary>
    public int Count => _options.Count;

    /// <inheritdoc />
    public override int FeatureSpaceDimension => _options.Values.Sum(o => o.FeatureSpaceDimension);

    /// <inheritdoc />
    public override object Default => new Parameter(_options.Select(p => KeyValuePair.Create(p.Key, p.Value.Default)));

    /// <summary>The parameter the search starts from.</summary>
    public Parameter DefaultParameter => (Parameter)Default;

    /// <inheritdoc />
    public override object SampleFromFeatureSpace(ReadOnlySpan<double> point) => Sample(point);

    /// <summary>The parameter at a point of [0, 1]^<see cref="OptionBase.FeatureSpaceDimension"/>.</summary>
    /// <exception cref="ArgumentException">The point has the wrong length.</exception>
    public Parameter Sample(ReadOnlySpan<double> point)
    {
        if (point.Length != FeatureSpaceDimension)
            throw new ArgumentException($"The point has {point.Length} coordinates; the space has {FeatureSpaceDimension}.", nameof(point));
        var values = new List<KeyValuePair<string, object>>(_options.Count);
        var offset = 0;
        foreach (var (key, option) in _options)
        {
            values.Add(KeyValuePair.Create(key, option.SampleFromFeatureSpace(point.Slice(offset, option.FeatureSpaceDimension))));
            offset += option.FeatureSpaceDimension;
        }
        return new Parameter(values);
    }

    /// <inheritdoc />
    public override double[] MappingToFeatureSpace(object value)
    {
        var parameter = value as Parameter ?? throw new ArgumentException($"A search space maps a Parameter, not {value.GetType().Name}.", nameof(value));
        return [.. _options.SelectMany(p => p.Value.MappingToFeatureSpace(parameter.TryGetValue(p.Key, out var v) ? v : p.Value.Default))];
    }

    /// <inheritdoc />
    public override IEnumerable<object> Grid(int steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        IEnumerable<IEnumerable<KeyValuePair<string, object>>> product = [[]];
        foreach (var (key, option) in _options)
        {
            var values = option.Grid(steps).ToList();
            product = product.SelectMany(prefix => values.Select(v => prefix.Append(KeyValuePair.Create(key, v))));
        }
        return product.Select(values => (object)new Parameter(values));
    }

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, OptionBase>> GetEnumerator() => _options.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override string ToString() => "{" + string.Join(", ", _options.Select(p => $"{p.Key}: {p.Value}")) + "}";
}
