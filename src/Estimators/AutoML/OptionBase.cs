using System.Globalization;

namespace Microsoft.ML.PaperExtensions.AutoML;

/// <summary>
/// One dimension of a <see cref="SearchSpace"/>, as Microsoft.ML.AutoML models it: every option maps a point of the unit
/// interval (its feature space) to a value, so that tuners search one box [0, 1]^d whatever the options are.
/// </summary>
public abstract class OptionBase
{
    private protected OptionBase()
    {
    }

    /// <summary>How many [0, 1] coordinates the option takes (1 for a range or a choice; the sum of its options for a space).</summary>
    public abstract int FeatureSpaceDimension { get; }

    /// <summary>The value a search starts from: the attribute's initial value, or the middle of the range.</summary>
    public abstract object Default { get; }

    /// <summary>The value at a point of the feature space (coordinates in [0, 1]; values outside are clamped to the box).</summary>
    public abstract object SampleFromFeatureSpace(ReadOnlySpan<double> point);

    /// <summary>The feature-space point of a value (the inverse of <see cref="SampleFromFeatureSpace"/> up to rounding).</summary>
    public abstract double[] MappingToFeatureSpace(object value);

    /// <summary>The values a grid search visits, with <paramref name="steps"/> points on each numeric range.</summary>
    public abstract IEnumerable<object> Grid(int steps);

    private protected static double Clamp01(double u) => double.IsNaN(u) ? 0.5 : Math.Clamp(u, 0, 1);
}

/// <summary>A real number in [<see cref="Min"/>, <see cref="Max"/>], uniform or uniform in the logarithm (<c>min * (max/min)^u</c>).</summary>
public sealed class UniformDoubleOption : OptionBase
{
    /// <summary>Creates the option.</summary>
    /// <exception cref="ArgumentException">The bounds are not finite and increasing, a log range is not positive, or the initial value lies outside.</exception>
    public UniformDoubleOption(double min, double max, bool logBase = false, double? init = null)
    {
        if (!(double.IsFinite(min) && double.IsFinite(max) && min < max))
            throw new ArgumentException($"A range needs finite bounds with min < max, but is [{min}, {max}].", nameof(min));
        if (logBase && min <= 0)
            throw new ArgumentException($"A log-scale range needs min > 0, but min is {min}.", nameof(min));
        if (init is { } i && !(i >= min && i <= max))
            throw new ArgumentOutOfRangeException(nameof(init), i, $"The initial value {i} lies outside [{min}, {max}].");
        Min = min;
        Max = max;
        LogBase = logBase;
        Init = init;
    }

    /// <summary>The smallest value.</summary>
    public double Min { get; }

    /// <summary>The largest value.</summary>
    public double Max { get; }

    /// <summary>Whether the range is uniform in the logarithm.</summary>
    public bool LogBase { get; }

    /// <summary>Where a search starts; null for the middle of the feature space.</summary>
    public double? Init { get; }

    /// <inheritdoc />
    public override int FeatureSpaceDimension => 1;

    /// <inheritdoc />
    public override object Default => Init ?? ValueAt(0.5);

    /// <inheritdoc />
    public override object SampleFromFeatureSpace(ReadOnlySpan<double> point) => ValueAt(point[0]);

    /// <inheritdoc />
    public override double[] MappingToFeatureSpace(object value) => [FeatureOf(Convert.ToDouble(value, CultureInfo.InvariantCulture))];

    /// <inheritdoc />
    public override IEnumerable<object> Grid(int steps) =>
        Enumerable.Range(0, steps).Select(i => (object)ValueAt(steps == 1 ? 0.5 : i / (double)(steps - 1)));

    internal double ValueAt(double u)
    {
        u = Clamp01(u);
        var value = LogBase ? Math.Exp(Math.Log(Min) + u * (Math.Log(Max) - Math.Log(Min))) : Min + u * (Max - Min);
        return Math.Clamp(value, Min, Max);
    }

    internal double FeatureOf(double value)
    {
        value = Math.Clamp(value, Min, Max);
        return LogBase ? (Math.Log(value) - Math.Log(Min)) / (Math.Log(Max) - Math.Log(Min)) : (value - Min) / (Max - Min);
    }

    /// <inheritdoc />
    public override string ToString() => $"[{Min}, {Max}]{(LogBase ? " log" : "")}";
}

/// <summary>An integer in [<see cref="Min"/>, <see cref="Max"/>]: the real range (uniform or log) rounded to the nearest integer.</summary>
public sealed class UniformIntOption : OptionBase
{
    private readonly UniformDoubleOption _range;

    /// <summary>Creates the option.</summary>
    /// <exception cref="ArgumentException">min is not below max, a log range is not positive, or the initial value lies outside.</exception>
    public UniformIntOption(int min, int max, bool logBase = false, int? init = null)
    {
        // The real range reaches half a unit beyond each bound, so that the end values are as likely as the inner ones.
        _range = new UniformDoubleOption(logBase ? Math.Max(min - 0.5, min * 0.5) : min - 0.5, max + 0.5, logBase);
        if (init is { } i && !(i >= min && i <= max))
            throw new ArgumentOutOfRangeException(nameof(init), i, $"The initial value {i} lies outside [{min}, {max}].");
        Min = min;
        Max = max;
        LogBase = logBase;
        Init = init;
    }

    /// <summary>The smallest value.</summary>
    public int Min { get; }

    /// <summary>The largest value.</summary>
    public int Max { get; }

    /// <summary>Whether the range is uniform in the logarithm.</summary>
    public bool LogBase { get; }

    /// <summary>Where a search starts; null for the middle of the feature space.</summary>
    public int? Init { get; }

    /// <inheritdoc />
    public override int FeatureSpaceDimension => 1;

    /// <inheritdoc />
    public override object Default => Init ?? ValueAt(0.5);

    /// <inheritdoc />
    public override object SampleFromFeatureSpace(ReadOnlySpan<double> point) => ValueAt(point[0]);

    /// <inheritdoc />
    public override double[] MappingToFeatureSpace(object value) => [_range.FeatureOf(Convert.ToDouble(value, CultureInfo.InvariantCulture))];

    /// <inheritdoc />
    public override IEnumerable<object> Grid(int steps)
    {
        var inner = new UniformDoubleOption(Min, Max, LogBase);
        return Enumerable.Range(0, steps).Select(i => (int)Math.Round(inner.ValueAt(steps == 1 ? 0.5 : i / (double)(steps - 1)), MidpointRounding.AwayFromZero))
            .Distinct().Select(v => (object)v);
    }

    private int ValueAt(double u) => Math.Clamp((int)Math.Round(_range.ValueAt(u), MidpointRounding.AwayFromZero), Min, Max);

    /// <inheritdoc />
    public override string ToString() => $"[{Min}, {Max}] integer{(LogBase ? " log" : "")}";
}

/// <summary>One of a list of values (numbers, text, Booleans or enum members); the unit interval is cut into equal parts.</summary>
public sealed class ChoiceOption : OptionBase
{
    /// <summary>Creates the option; the default is <paramref name="defaultValue"/>, or the first value.</summary>
    /// <exception cref="ArgumentException">No values, a value twice, a null value, or a default that is not among them.</exception>
    public ChoiceOption(IReadOnlyList<object> values, object? defaultValue = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("A choice needs at least one value.", nameof(values));
        if (values.Any(v => v is null)) throw new ArgumentException("A choice cannot hold null.", nameof(values));
        if (values.Distinct().Count() != values.Count) throw new ArgumentException($"A choice lists a value twice: {string.Join(", ", values)}.", nameof(values));
        if (defaultValue is not null && !values.Contains(defaultValue))
            throw new ArgumentException($"The default {defaultValue} is not among the choices ({string.Join(", ", values)}).", nameof(defaultValue));
        Values = [.. values];
        Default = defaultValue ?? values[0];
    }

    /// <summary>Creates the option from values, the first being the default.</summary>
    public ChoiceOption(params object[] values) : this((IReadOnlyList<object>)values)
    {
    }

    /// <summary>The values, in order.</summary>
    public IReadOnlyList<object> Values { get; }

    /// <inheritdoc />
    public override int FeatureSpaceDimension => 1;

    /// <inheritdoc />
    public override object Default { get; }

    /// <inheritdoc />
    public override object SampleFromFeatureSpace(ReadOnlySpan<double> point) => Values[Math.Min(Values.Count - 1, (int)(Clamp01(point[0]) * Values.Count))];

    /// <inheritdoc />
    public override double[] MappingToFeatureSpace(object value)
    {
        var index = IndexOf(value);
        if (index < 0) throw new ArgumentException($"{value} is not among the choices ({string.Join(", ", Values)}).", nameof(value));
        return [(index + 0.5) / Values.Count];
    }

    /// <inheritdoc />
    public override IEnumerable<object> Grid(int steps) => Values;

    private int IndexOf(object value)
    {
        for (var i = 0; i < Values.Count; i++)
        {
            if (Values[i].Equals(value) || string.Equals(Values[i].ToString(), value.ToString(), StringComparison.Ordinal)) return i;
        }
        return -1;
    }

    /// <inheritdoc />
    public override string ToString() => "{" + string.Join(", ", Values) + "}";
}
