using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Microsoft.ML.PaperExtensions.TestSupport;

/// <summary>
/// soup.csv as the PRESTO paper uses it: class k = 7 - SURENESS (the rare class "reference, sure" is k = 6, the last),
/// and 22 treatment-coded dummies from PROD, DAY, SOUPTYPE, SOUPFREQ, COLD, EASY, GENDER, AGEGROUP and LOCATION, with
/// the reference levels of R's ordinal::soup.
/// </summary>
public static class SoupFeatures
{
    /// <summary>One rating.</summary>
    public sealed class Row
    {
        /// <summary>Class 1..6 (7 - SURENESS).</summary>
        public float Label { get; set; }

        /// <summary>The 22 dummies.</summary>
        [VectorType(22)]
        public float[] Features { get; set; } = [];
    }

    private static readonly (string Column, string[] Levels)[] Factors =
    [
        ("PROD", ["Ref", "Test"]),
        ("DAY", ["1", "2"]),
        ("SOUPTYPE", ["Self-made", "Canned", "Dry-mix"]),
        ("SOUPFREQ", [">1/week", "1-4/month", "<1/month"]),
        ("COLD", ["No", "Yes"]),
        ("EASY", ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]),
        ("GENDER", ["Male", "Female"]),
        ("AGEGROUP", ["18-30", "31-40", "41-50", "51-65"]),
        ("LOCATION", ["Region 1", "Region 2", "Region 3"]),
    ];

    /// <summary>Names of the 22 dummies, in feature order.</summary>
    public static IReadOnlyList<string> FeatureNames { get; } = Factors.SelectMany(f => f.Levels.Skip(1).Select(l => $"{f.Column}={l}")).ToArray();

    /// <summary>Reads soup.csv (every field is quoted; no field holds a comma).</summary>
    public static Row[] Load(string path)
    {
        var lines = File.ReadAllLines(path);
        var header = Split(lines[0]);
        var sureness = Array.IndexOf(header, "SURENESS");
        var columns = Factors.Select(f => Array.IndexOf(header, f.Column)).ToArray();
        return lines.Skip(1).Select(Split).Select(fields => new Row
        {
            Label = 7 - int.Parse(fields[sureness], CultureInfo.InvariantCulture),
            Features = Factors.SelectMany((f, i) => f.Levels.Skip(1).Select(level => fields[columns[i]] == level ? 1f : 0f)).ToArray(),
        }).ToArray();
    }

    /// <summary>The rows as an IDataView with a key label whose key values are "1".."6".</summary>
    public static IDataView Load(MLContext ml, string path)
    {
        var view = ml.Data.LoadFromEnumerable(Load(path));
        var keys = ml.Data.LoadFromEnumerable(Enumerable.Range(1, 6).Select(k => new { Label = (float)k }));
        return ml.Transforms.Conversion.MapValueToKey("Label", keyData: keys).Fit(view).Transform(view);
    }

    private static string[] Split(string line) => line.Split(',').Select(f => f.Trim('"')).ToArray();
}
