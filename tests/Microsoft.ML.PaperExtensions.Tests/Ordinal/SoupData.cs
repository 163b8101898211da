using System.Globalization;
using Microsoft.ML.Data;

namespace Microsoft.ML.PaperExtensions.Tests.Ordinal;

/// <summary>soup.csv with class k = 7 - SURENESS and 0/1 features, and the reference fits of Data/reference/ordinal.R.</summary>
internal static class SoupData
{
    internal sealed class Row
    {
        public float Label { get; set; }

        [VectorType(4)]
        public float[] Features { get; set; } = [];
    }

    /// <summary>Class 1..6 and the four indicators PROD == Test, DAY == 2, COLD == Yes, GENDER == Female.</summary>
    public static Row[] FourIndicators()
    {
        var lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Data", "soup.csv"));
        var header = Split(lines[0]);
        int prod = Array.IndexOf(header, "PROD"), day = Array.IndexOf(header, "DAY"), cold = Array.IndexOf(header, "COLD"),
            gender = Array.IndexOf(header, "GENDER"), sureness = Array.IndexOf(header, "SURENESS");
        return lines.Skip(1).Select(Split).Select(f => new Row
        {
            Label = 7 - int.Parse(f[sureness], CultureInfo.InvariantCulture),
            Features = [f[prod] == "Test" ? 1 : 0, f[day] == "2" ? 1 : 0, f[cold] == "Yes" ? 1 : 0, f[gender] == "Female" ? 1 : 0],
        }).ToArray();
    }

    /// <summary>The reference value of a model and term, from Data/reference/ordinal.csv.</summary>
    public static double Reference(string model, string term) => ReferenceValues.Get("ordinal.csv", model, term);

    public static readonly string[] FeatureNames = ["prod", "day", "cold", "female"];

    private static string[] Split(string line) => line.Split(',').Select(f => f.Trim('"')).ToArray();
}
