using System.Text.Json;

namespace Microsoft.ML.PaperExtensions.Tests.FineTuning;

/// <summary>Nested JSON number lists of the reference files, as flat double arrays with their shape.</summary>
internal static class JsonMatrix
{
    public static (double[] Values, long[] Shape) Read(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Number) return ([e.GetDouble()], []);
        var items = e.EnumerateArray().Select(Read).ToList();
        return (items.SelectMany(i => i.Values).ToArray(), [items.Count, .. items[0].Shape]);
    }

    public static long[] Longs(JsonElement e) => Read(e).Values.Select(v => (long)v).ToArray();

    public static double MaxAbsDifference(double[] a, double[] b)
    {
        Assert.AreEqual(a.Length, b.Length, "lengths");
        return a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
    }
}
