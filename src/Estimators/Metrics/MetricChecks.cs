namespace Microsoft.ML.PaperExtensions.Metrics;

internal static class MetricChecks
{
    public static void RequireFinite(ReadOnlySpan<double> values, string name)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                throw new ArgumentException($"'{name}' has a NaN or infinite value at index {i}.", name);
            }
        }
    }

    public static void RequireSameLength(int expected, int actual, string name)
    {
        if (expected != actual)
        {
            throw new ArgumentException($"'{name}' has {actual} values; expected {expected}.", name);
        }
    }

    public static void RequireProbabilities(ReadOnlySpan<double> values, string name)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!(values[i] >= 0 && values[i] <= 1))
            {
                throw new ArgumentException($"'{name}' has {values[i]} at index {i}; probabilities must lie in [0, 1].", name);
            }
        }
    }

    public static void RequireClasses(ReadOnlySpan<int> labels, int classCount, string name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 2, nameof(classCount));
        for (var i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classCount)
            {
                throw new ArgumentException($"'{name}' has class {labels[i]} at index {i}; classes are 0 to {classCount - 1}.", name);
            }
        }
    }
}
