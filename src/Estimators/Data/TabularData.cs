using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Data;

/// <summary>
/// The columns a trainer needs, read from an IDataView in one pass: features as one row-major float64 matrix
/// (several columns concatenated in the order given), and optionally a label and example weights.
/// </summary>
internal sealed class TabularData
{
    internal TabularData(int rowCount, IReadOnlyList<FeatureSlot> featureSlots, double[] features, double[]? label, string[]? textLabel, double[]? weights)
    {
        RowCount = rowCount;
        FeatureSlots = featureSlots;
        Features = features;
        Label = label;
        TextLabel = textLabel;
        Weights = weights;
    }

    /// <summary>Number of rows read.</summary>
    public int RowCount { get; }

    /// <summary>Which columns the feature matrix's columns came from.</summary>
    public IReadOnlyList<FeatureSlot> FeatureSlots { get; }

    /// <summary>Total number of features (the matrix's width).</summary>
    public int FeatureCount => FeatureSlots.Count == 0 ? 0 : FeatureSlots[^1].Offset + FeatureSlots[^1].Width;

    /// <summary>Row-major features, <see cref="RowCount"/> x <see cref="FeatureCount"/>.</summary>
    public double[] Features { get; }

    /// <summary>The label as numbers (0-based class index for keys, 0/1 for Booleans), or null when no numeric label was read.</summary>
    public double[]? Label { get; }

    /// <summary>The label as text, when a text label was read.</summary>
    public string[]? TextLabel { get; }

    /// <summary>Example weights, or null when no weight column was named.</summary>
    public double[]? Weights { get; }

    /// <summary>The features as a float64 tensor of shape [rows, features] on <paramref name="device"/>.</summary>
    public Tensor FeatureTensor(Device? device = null) =>
        tensor(Features, [RowCount, FeatureCount], ScalarType.Float64, device);

    /// <summary>The numeric label as a float64 tensor of shape [rows].</summary>
    public Tensor LabelTensor(Device? device = null) =>
        tensor(Label ?? throw new InvalidOperationException("No numeric label was read."), [RowCount], ScalarType.Float64, device);
}

/// <summary>A feature column's place in the feature matrix.</summary>
/// <param name="ColumnName">The source column.</param>
/// <param name="Offset">Index of its first value in a row of the matrix.</param>
/// <param name="Width">1 for a scalar column, the vector size otherwise.</param>
internal sealed record FeatureSlot(string ColumnName, int Offset, int Width);
