namespace Microsoft.ML.PaperExtensions.Tests.AutoML;

/// <summary>A row with a label (NaN for unlabelled) and one numeric column, for the split and fold tests.</summary>
internal sealed class LabelRow
{
    public float Label { get; set; }

    public float X { get; set; }
}
