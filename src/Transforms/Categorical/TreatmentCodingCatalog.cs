using Microsoft.ML.PaperExtensions.Categorical;

namespace Microsoft.ML.PaperExtensions;

/// <summary>Treatment coding on ML.NET's categorical catalog: <c>mlContext.Transforms.Categorical.TreatmentCoding(...)</c>.</summary>
public static class TreatmentCodingCatalog
{
    /// <summary>
    /// Replaces each column by K - 1 indicators of its non-reference levels, found in the data (see <see cref="TreatmentCodingEstimator"/>).
    /// </summary>
    /// <param name="catalog">The categorical transforms catalog.</param>
    /// <param name="columnNames">The categorical columns; each output column has its input's name.</param>
    public static TreatmentCodingEstimator TreatmentCoding(this TransformsCatalog.CategoricalTransforms catalog, params string[] columnNames)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(columnNames);
        return new TreatmentCodingEstimator(columnNames.Select(c => new TreatmentCodingEstimator.ColumnOptions(c)).ToList());
    }

    /// <summary>Codes each column as K - 1 indicators, with the levels given (the first is the reference) or found in the data.</summary>
    /// <param name="catalog">The categorical transforms catalog.</param>
    /// <param name="columns">Output and input names, and optionally the levels, of each column.</param>
    public static TreatmentCodingEstimator TreatmentCoding(this TransformsCatalog.CategoricalTransforms catalog, params TreatmentCodingEstimator.ColumnOptions[] columns)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new TreatmentCodingEstimator(columns);
    }
}
