using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;

namespace Microsoft.ML.PaperExtensions.Metrics;

/// <summary>What the semi-supervised evaluator measures.</summary>
/// <param name="RowCount">Rows evaluated.</param>
/// <param name="KnownClassRows">Rows whose true class is one of the model's classes; accuracy and macro-F1 are over these.</param>
/// <param name="UnknownClassRows">Rows of classes the model does not know (absent from its labelled rows); not scored for accuracy.</param>
/// <param name="UnpredictedRows">Known-class rows without a predicted class (a missing key: the model could not score them or called them unknown); they count as errors.</param>
/// <param name="Accuracy">Share of known-class rows predicted correctly; NaN when there are none.</param>
/// <param name="MacroF1">Macro-averaged F1 over the model's classes (see <see cref="ClassificationMetrics.MacroF1"/>); NaN when there are no known-class rows.</param>
/// <param name="UnknownAuroc">
/// How well low confidence flags rows of unknown classes: the area under the ROC curve of minus the confidence column for
/// unknown-class rows against known-class rows; null without a confidence column or without rows of both kinds.
/// </param>
public sealed record SemiSupervisedEvaluation(int RowCount, int KnownClassRows, int UnknownClassRows, int UnpredictedRows, double Accuracy, double MacroF1, double? UnknownAuroc);

/// <summary>
/// Evaluates a semi-supervised classifier on scored, labelled rows by column names. The model's classes are the key values of
/// its predicted-label column; labelled rows of other classes are counted apart (open-set evaluation) and, with a
/// confidence column, measure how well the model flags them. <c>mlContext.SemiSupervised().Evaluate</c> calls it.
/// </summary>
public static class SemiSupervisedEvaluator
{
    /// <summary>Computes the metrics.</summary>
    /// <param name="scored">Scored rows with their true label.</param>
    /// <param name="labelColumnName">The true class: key, numeric or text; every row needs one.</param>
    /// <param name="predictedLabelColumnName">The predicted class: a key column whose key values name the model's classes.</param>
    /// <param name="confidenceColumnName">A Single or Double column, higher = more likely a known class (for example <c>KnownClassConfidence</c>, which every semi-supervised model of this package writes); null for none.</param>
    /// <exception cref="ArgumentException">A column is missing or mistyped, or a row has no label.</exception>
    public static SemiSupervisedEvaluation Evaluate(IDataView scored, string labelColumnName = ColumnNames.Label, string predictedLabelColumnName = ColumnNames.PredictedLabel,
        string? confidenceColumnName = null)
    {
        ArgumentNullException.ThrowIfNull(scored);
        new InputColumns()
            .Add("label", nameof(labelColumnName), labelColumnName, ColumnTypes.Key | ColumnTypes.Number | ColumnTypes.Text)
            .Add("predicted label", nameof(predictedLabelColumnName), predictedLabelColumnName, ColumnTypes.Key, "a key column whose key values are the class names")
            .Add("confidence", nameof(confidenceColumnName), confidenceColumnName, ColumnTypes.SingleOrDouble, optional: true)
            .Check(scored.Schema);
        var predictedColumn = scored.Schema[predictedLabelColumnName];
        var classNames = KeyClassNames.Read(predictedColumn, (int)((KeyDataViewType)predictedColumn.Type).Count);
        var features = confidenceColumnName is null ? [] : new[] { confidenceColumnName };
        var truth = DataViewReader.Read(scored, new DataViewReader.Request(features, labelColumnName, FeatureRole: "confidence", LabelOption: nameof(labelColumnName), FeatureOption: nameof(confidenceColumnName)));
        var predicted = DataViewReader.Read(scored, new DataViewReader.Request([], predictedLabelColumnName, AllowMissingLabels: true, LabelOption: nameof(predictedLabelColumnName))).Label!;
        var labelType = scored.Schema[labelColumnName].Type;
        var labelNames = labelType is KeyDataViewType key ? KeyClassNames.Read(scored.Schema[labelColumnName], (int)key.Count) : null;

        var n = truth.RowCount;
        var trueClass = new int[n];
        for (var i = 0; i < n; i++)
        {
            var name = truth.TextLabel is { } text ? text[i]
                : labelNames is not null ? labelNames[(int)truth.Label![i]]
                : truth.Label![i].ToString(CultureInfo.InvariantCulture);
            if (string.IsNullOrWhiteSpace(name))
            {
                throw new ArgumentException($"Label column '{labelColumnName}' has no label at row {i}; every evaluated row needs its true class.", nameof(labelColumnName));
            }
            trueClass[i] = IndexOf(classNames, name, numeric: labelType is NumberDataViewType);
        }
        var known = Enumerable.Range(0, n).Where(i => trueClass[i] >= 0).ToArray();
        var predictedClass = known.Select(i => double.IsNaN(predicted[i]) ? -1 : (int)predicted[i]).ToArray();
        var knownTruth = known.Select(i => trueClass[i]).ToArray();
        var accuracy = known.Length == 0 ? double.NaN : ClassificationMetrics.Accuracy(knownTruth, predictedClass);
        var macroF1 = known.Length == 0 ? double.NaN : ClassificationMetrics.MacroF1(knownTruth, predictedClass, classNames.Length);
        double? auroc = null;
        if (confidenceColumnName is not null && known.Length > 0 && known.Length < n)
        {
            auroc = ClassificationMetrics.AreaUnderRocCurve(truth.Features.Select(c => -c).ToArray(), trueClass.Select(c => c < 0).ToArray());
        }
        return new SemiSupervisedEvaluation(n, known.Length, n - known.Length, predictedClass.Count(c => c < 0), accuracy, macroF1, auroc);
    }

    /// <summary>The class whose name equals <paramref name="label"/> (numerically for numeric labels), or -1.</summary>
    private static int IndexOf(string[] classNames, string label, bool numeric)
    {
        for (var k = 0; k < classNames.Length; k++)
        {
            var same = numeric
                ? double.TryParse(classNames[k], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v == double.Parse(label, CultureInfo.InvariantCulture)
                : label == classNames[k];
            if (same) return k;
        }
        return -1;
    }
}
