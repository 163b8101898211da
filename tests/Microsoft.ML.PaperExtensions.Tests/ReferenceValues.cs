using System.Globalization;

namespace Microsoft.ML.PaperExtensions.Tests;

/// <summary>Values from reference implementations, stored as model,term,value rows in Data/reference/*.csv by the scripts beside them.</summary>
internal static class ReferenceValues
{
    public static double Get(string file, string model, string term) =>
        File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Data", "reference", file)).Skip(1)
            .Select(l => l.Split(','))
            .Where(f => f[0] == model && f[1] == term)
            .Select(f => double.Parse(f[2], CultureInfo.InvariantCulture))
            .Single();
}
