using Microsoft.ML.Data;

namespace Microsoft.ML.PaperExtensions.TestSupport;

/// <summary>The labelled text files of the text benchmarks (columns text, label; RFC 4180) and the cosine they compare vectors by.</summary>
public static class TextData
{
    /// <summary>A CSV whose first column is the text and second the label, as columns <c>Text</c> and <c>Label</c>.</summary>
    public static IDataView Load(MLContext ml, string file) => ml.Data.CreateTextLoader(new TextLoader.Options
    {
        Separators = [','], HasHeader = true, AllowQuoting = true,
        Columns = [new TextLoader.Column("Text", DataKind.String, 0), new TextLoader.Column("Label", DataKind.String, 1)],
    }).Load(file);

    /// <summary>cos(a, b) in float64.</summary>
    public static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) (dot, na, nb) = (dot + a[i] * b[i], na + a[i] * a[i], nb + b[i] * b[i]);
        return dot / Math.Sqrt(na * nb);
    }
}
