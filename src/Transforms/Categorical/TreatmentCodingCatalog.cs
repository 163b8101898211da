using Microsoft.ML.PaperExtensions.Categorical;

namespace Microsoft.ML.PaperExtensions;

/// <summary>Treatment coding on ML.NET's categorical catalog: <c>mlContext.Transforms.Categorical.TreatmentCoding(...)</c>.</summary>
public static class TreatmentCodingCatalog
{
    /// <summary>Codes each column as K - 1 indicators of its non-reference levels (see <see cref="TreatmentCodingEstimator"/>).</summary>
    /// <param name="catalog">The categorical transforms catalog.</param>
    /// <param name="columns">Pairs of output and input column names; levels are found in the data.</param>
    public static TreatmentCodingEstimator TreatmentCoding(this TransformsCatalog.CategoricalTransforms catalog, params InputOutputColumnPair[] columns)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(columns);
        return new TreatmentCodingEstimator(columns.Select(c => new TreatmentCodingEstimator.ColumnOptions(c.OutputColumnName, c.InputColumnName)).ToList());
    }

    /// <summary>Codes each column as K - 1 indicators, with the levels given (the first is the reference) or found in the data.</summary>
    public static TreatmentCodingEstimator TreatmentCoding(this TransformsCatalog.CategoricalTransforms catalog, params TreatmentCodingEstimator.ColumnOptions[] columns)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new TreatmentCodingEstimator(columns);
    }
}
