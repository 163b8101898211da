using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;

namespace Microsoft.ML.PaperExtensions.Metrics;

/// <summary>
/// Evaluates predicted probabilities of ordered classes on scored data, by column names, as ML.NET's evaluators do:
/// any pipeline whose last step writes a vector of class probabilities can be evaluated. <c>mlContext.Ordinal().Evaluate</c>
/// calls it.
/// </summary>
public static class OrdinalEvaluator
{
    /// <summary>Computes the ordinal and rare-class metrics.</summary>
    /// <param name="scored">Scored data.</param>
    /// <param name="labelColumnName">
    /// The true class: a key column (key order = class order), or a numeric column holding either the class values the model
    /// was trained on (matched to the key values of <paramref name="predictedLabelColumnName"/>) or class indices 0..K-1.
    /// </param>
    /// <param name="scoreColumnName">A known-size vector of K class probabilities, in class order.</param>
    /// <param name="rareClass">The 0-based class whose probability matters most; the last class when null.</param>
    /// <param name="predictedLabelColumnName">A key column whose key values name the classes (used to match numeric labels); ignored when absent.</param>
    /// <param name="crossingRepairedColumnName">A Boolean column flagging rows whose cumulative probabilities were repaired (ordinal models of this package write <c>CrossingRepaired</c>); null to count nothing.</param>
    /// <remarks>Rows with a NaN or infinite probability (rows the model could not score) are left out of every metric and counted in <see cref="OrdinalEvaluation.UnscoredRows"/>.</remarks>
    /// <exception cref="ArgumentException">A column is missing or mistyped, a label is outside the classes, a probability is outside [0, 1], or no row was scored.</exception>
    public static OrdinalEvaluation Evaluate(IDataView scored, string labelColumnName = ColumnNames.Label, string scoreColumnName = ColumnNames.Score, int? rareClass = null,
        string predictedLabelColumnName = ColumnNames.PredictedLabel, string? crossingRepairedColumnName = null)
    {
        ArgumentNullException.ThrowIfNull(scored);
        new InputColumns()
            .Add("score", nameof(scoreColumnName), scoreColumnName, ColumnTypes.Features, "a known-size vector of Single or Double class probabilities")
            .Add("label", nameof(labelColumnName), labelColumnName, ColumnTypes.Key | ColumnTypes.Number)
            .Add("crossing flag", nameof(crossingRepairedColumnName), crossingRepairedColumnName, ColumnTypes.Boolean, optional: true)
            .Check(scored.Schema);
        var read = DataViewReader.Read(scored, new DataViewReader.Request([scoreColumnName], labelColumnName, FeatureRole: "score", AllowNonFiniteFeatures: true,
            FeatureOption: nameof(scoreColumnName), LabelOption: nameof(labelColumnName)));
        var classCount = read.FeatureCount;
        if (classCount < 2)
        {
            throw new ArgumentException($"Score column '{scoreColumnName}' must hold at least two class probabilities, but has {classCount}.", nameof(scoreColumnName));
        }
        // A numeric label holds class values; a model of this package names its classes by those values in the key
        // values of PredictedLabel, which maps them to indices. Without that column the values must be the indices.
        var classValues = scored.Schema[labelColumnName].Type is NumberDataViewType ? ClassNames(scored.Schema, predictedLabelColumnName, classCount) : null;
        var labels = new int[read.RowCount];
        for (var i = 0; i < labels.Length; i++)
        {
            var value = read.Label![i];
            var index = classValues is null ? value : Array.IndexOf(classValues, value.ToString(CultureInfo.InvariantCulture));
            if (index != Math.Floor(index) || index < 0 || index >= classCount)
            {
                var expected = classValues is null ? $"0 to {classCount - 1}" : string.Join(", ", classValues);
                throw new ArgumentException($"Label column '{labelColumnName}' has the value {value} at row {i}; classes must be {expected} to match score column '{scoreColumnName}'.", nameof(labelColumnName));
            }
            labels[i] = (int)index;
        }
        var rare = rareClass ?? classCount - 1;
        ArgumentOutOfRangeException.ThrowIfNegative(rare, nameof(rareClass));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rare, classCount, nameof(rareClass));
        // Rows the model could not score (NaN probabilities: a NaN feature, or crossing under CrossingRepair.Error) are counted
        // and left out, never taken as some class.
        var scoredRows = Enumerable.Range(0, labels.Length).Where(i => AllFinite(read.Features.AsSpan(i * classCount, classCount))).ToArray();
        if (scoredRows.Length == 0)
        {
            throw new ArgumentException($"Score column '{scoreColumnName}' has NaN or infinite probabilities in every one of its {labels.Length} rows; there is nothing to evaluate.", nameof(scoreColumnName));
        }
        var probabilities = scoredRows.Length == labels.Length ? read.Features : scoredRows.SelectMany(i => read.Features.Skip(i * classCount).Take(classCount)).ToArray();
        int? repairs = crossingRepairedColumnName is null ? null : scored.GetColumn<bool>(crossingRepairedColumnName).Count(repaired => repaired);
        return OrdinalEvaluation.Compute(probabilities, scoredRows.Select(i => labels[i]).ToArray(), classCount, rare, repairs) with { UnscoredRows = labels.Length - scoredRows.Length };
    }

    private static bool AllFinite(ReadOnlySpan<double> values)
    {
        foreach (var v in values) if (!double.IsFinite(v)) return false;
        return true;
    }

    /// <summary>The text key values of a K-class key column, or null.</summary>
    private static string[]? ClassNames(DataViewSchema schema, string columnName, int classCount)
    {
        if (schema.GetColumnOrNull(columnName) is not { Type: KeyDataViewType } column
            || column.Annotations.Schema.GetColumnOrNull("KeyValues") is not { Type: VectorDataViewType { ItemType: TextDataViewType, Size: var size } }
            || size != classCount)
        {
            return null;
        }
        var names = default(VBuffer<ReadOnlyMemory<char>>);
        column.GetKeyValues(ref names);
        return names.DenseValues().Select(n => n.ToString()).ToArray();
    }
}
