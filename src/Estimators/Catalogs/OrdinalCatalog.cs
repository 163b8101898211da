using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;
using Microsoft.ML.PaperExtensions.Metrics;

namespace Microsoft.ML.PaperExtensions;

/// <summary>Ordinal regression: trainers and evaluation. Get it with <c>mlContext.Ordinal()</c>.</summary>
public sealed class OrdinalCatalog : TaskCatalogBase
{
    internal OrdinalCatalog(MLContext mlContext) : base(mlContext) => Trainers = new TrainerCatalog<OrdinalCatalog>(this);

    /// <summary>Ordinal trainers.</summary>
    public TrainerCatalog<OrdinalCatalog> Trainers { get; }

    /// <summary>
    /// Evaluates predicted class probabilities of ordered classes.
    /// </summary>
    /// <param name="data">Scored data.</param>
    /// <param name="labelColumnName">
    /// The true class: a key column (key order = class order), or a numeric column holding either the class values a model
    /// of this package was trained on (read from the key values of its <c>PredictedLabel</c>) or class indices 0..K-1.
    /// </param>
    /// <param name="scoreColumnName">A known-size vector of K class probabilities, in class order.</param>
    /// <param name="rareClass">The 0-based class whose probability matters most; the last class when null.</param>
    /// <exception cref="ArgumentException">A column is missing or mistyped, a label is outside 0..K-1, or a probability is NaN or outside [0, 1].</exception>
    public OrdinalEvaluation Evaluate(IDataView data, string labelColumnName = "Label", string scoreColumnName = "Score", int? rareClass = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        var read = DataViewReader.Read(data, new DataViewReader.Request([scoreColumnName], labelColumnName, LabelKind.Key | LabelKind.Numeric, FeatureRole: "score", AllowNonFiniteFeatures: true));
        var classCount = read.FeatureCount;
        if (classCount < 2)
        {
            throw new ArgumentException($"Score column '{scoreColumnName}' must hold at least two class probabilities, but has {classCount}.", nameof(scoreColumnName));
        }
        // A numeric label holds class values; a model of this package names its classes by those values in the key
        // values of PredictedLabel, which maps them to indices. Without that column the values must be the indices.
        var classValues = data.Schema[labelColumnName].Type is NumberDataViewType ? ClassNames(data.Schema, classCount) : null;
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
        var probabilities = read.Features;
        var nan = Array.FindIndex(probabilities, v => !double.IsFinite(v));
        if (nan >= 0)
        {
            throw new ArgumentException($"Score column '{scoreColumnName}' has a NaN or infinite probability at row {nan / classCount} (an ordinal model with " +
                "CrossingRepair = Error gives NaN where its cumulative probabilities cross).", nameof(scoreColumnName));
        }
        return OrdinalEvaluation.Compute(probabilities, labels, classCount, rare, CountCrossingRepairs(data));
    }

    /// <summary>The column in which ordinal models flag rows whose cumulative probabilities crossed.</summary>
    public const string CrossingRepairedColumnName = "CrossingRepaired";

    /// <summary>The text key values of a K-class PredictedLabel column, or null.</summary>
    private static string[]? ClassNames(DataViewSchema schema, int classCount)
    {
        if (schema.GetColumnOrNull(ColumnNames.PredictedLabel) is not { Type: KeyDataViewType } column
            || column.Annotations.Schema.GetColumnOrNull("KeyValues") is not { Type: VectorDataViewType { ItemType: TextDataViewType, Size: var size } }
            || size != classCount)
        {
            return null;
        }
        var names = default(VBuffer<ReadOnlyMemory<char>>);
        column.GetKeyValues(ref names);
        return names.DenseValues().Select(n => n.ToString()).ToArray();
    }

    private static int? CountCrossingRepairs(IDataView data)
    {
        if (data.Schema.GetColumnOrNull(CrossingRepairedColumnName) is not { Type: BooleanDataViewType } column)
        {
            return null;
        }
        return data.GetColumn<bool>(column).Count(repaired => repaired);
    }

    /// <summary>
    /// K-fold cross-validation of an ordinal estimator: fits on K-1 folds, scores the held-out fold and evaluates it
    /// with <see cref="Evaluate"/>.
    /// </summary>
    /// <param name="data">The data.</param>
    /// <param name="estimator">The estimator (or pipeline) to validate; it must write the class probabilities to <paramref name="scoreColumnName"/>.</param>
    /// <param name="numberOfFolds">K, at least 2 and at most the number of rows.</param>
    /// <param name="labelColumnName">The true class column.</param>
    /// <param name="scoreColumnName">The class probability column the estimator writes.</param>
    /// <param name="samplingKeyColumnName">Rows with the same value of this column stay in one fold (for example a respondent id); null for none.</param>
    /// <param name="seed">The seed of the fold assignment; null to draw it from the MLContext.</param>
    public IReadOnlyList<CrossValidationFold<OrdinalEvaluation>> CrossValidate(IDataView data, IEstimator<ITransformer> estimator, int numberOfFolds = 5,
        string labelColumnName = "Label", string scoreColumnName = "Score", string? samplingKeyColumnName = null, int? seed = null) =>
        CrossValidation.Run(Context, data, estimator, numberOfFolds, samplingKeyColumnName, seed, (_, scored) => Evaluate(scored, labelColumnName, scoreColumnName));
}
