using System.Globalization;

namespace Microsoft.ML.PaperExtensions.Tests.Survival;

/// <summary>veteran.csv with the treatment indicator and the Karnofsky score, and the survreg references of Data/reference/survival.R.</summary>
internal static class VeteranData
{
    internal sealed class Row
    {
        public float Time { get; set; }

        public float Status { get; set; }

        public float Trt2 { get; set; }

        public float Karno { get; set; }
    }

    public static Row[] Load() =>
        File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Data", "veteran.csv")).Skip(1)
            .Select(l => l.Split(',').Select(f => f.Trim('"')).ToArray())
            .Select(f => new Row
            {
                Trt2 = f[0] == "2" ? 1 : 0,
                Time = float.Parse(f[2], CultureInfo.InvariantCulture),
                Status = float.Parse(f[3], CultureInfo.InvariantCulture),
                Karno = float.Parse(f[4], CultureInfo.InvariantCulture),
            }).ToArray();

    public static double Reference(string model, string term) => ReferenceValues.Get("survival.csv", model, term);
}
