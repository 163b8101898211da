namespace Microsoft.ML.PaperExtensions;

/// <summary>The column names ML.NET's trainers and evaluators use by default (ML.NET keeps its own list internal).</summary>
public static class ColumnNames
{
    /// <summary>"Label".</summary>
    public const string Label = "Label";

    /// <summary>"Features".</summary>
    public const string Features = "Features";

    /// <summary>"Score".</summary>
    public const string Score = "Score";

    /// <summary>"PredictedLabel".</summary>
    public const string PredictedLabel = "PredictedLabel";
}
