using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Metrics;

namespace Microsoft.ML.PaperExtensions.AutoML;

/// <summary>The tasks the experiment knows metrics for.</summary>
public enum AutoMLTask
{
    /// <summary>Ordered classes (PRESTO, and ML.NET's multiclass trainers side by side), on class probabilities.</summary>
    Ordinal,

    /// <summary>Censored time to event (the flexible parametric trainer).</summary>
    Survival,

    /// <summary>A few labelled rows and many unlabelled ones; scored on held-out labelled rows.</summary>
    SemiSupervised,

    /// <summary>ML.NET multiclass classification.</summary>
    Multiclass,

    /// <summary>ML.NET binary classification.</summary>
    Binary,

    /// <summary>ML.NET regression.</summary>
    Regression,

    /// <summary>Text classification by the fine-tuner (scored like multiclass).</summary>
    TextClassification,
}

/// <summary>
/// What a trial is scored by on its validation rows: a name, a direction, and an evaluation of scored data. The factories
/// below cover every task; the metric names are the command line's.
/// </summary>
public sealed class AutoMLMetric
{
    private readonly Func<MLContext, IDataView, double> _evaluate;

    /// <summary>A metric of your own.</summary>
    public AutoMLMetric(string name, bool isMaximize, Func<MLContext, IDataView, double> evaluate)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(evaluate);
        Name = name;
        IsMaximize = isMaximize;
        _evaluate = evaluate;
    }

    /// <summary>The metric's name.</summary>
    public string Name { get; }

    /// <summary>Whether larger is better.</summary>
    public bool IsMaximize { get; }

    /// <summary>The metric of scored validation rows.</summary>
    public double Evaluate(MLContext mlContext, IDataView scored) => _evaluate(mlContext, scored);

    /// <summary>The metric names of a task; the first is the default.</summary>
    public static IReadOnlyList<string> NamesFor(AutoMLTask task) => task switch
    {
        AutoMLTask.Ordinal => ["brier", "rps", "rarebrier", "qwk", "logloss", "accuracy"],
        AutoMLTask.Survival => ["cindex", "ibs", "loglik"],
        AutoMLTask.SemiSupervised => ["accuracy", "macrof1", "logloss"],
        AutoMLTask.Multiclass or AutoMLTask.TextClassification => ["accuracy", "macrof1", "logloss"],
        AutoMLTask.Binary => ["accuracy", "macrof1", "logloss", "auc"],
        AutoMLTask.Regression => ["rmse", "r2", "mae"],
        _ => throw new ArgumentOutOfRangeException(nameof(task), task, $"Unknown task {task}."),
    };

    /// <summary>
    /// The metric of a task by name (null: the task's default). Ordinal, multiclass, semi-supervised and binary metrics read
    /// <paramref name="labelColumnName"/>; survival reads <paramref name="timeColumnName"/> and <paramref name="eventColumnName"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not a metric of the task; the message lists the valid ones.</exception>
    public static AutoMLMetric For(AutoMLTask task, string? name = null, string labelColumnName = ColumnNames.Label,
        string timeColumnName = "Time", string eventColumnName = "Event", double? eventValue = null)
    {
        var names = NamesFor(task);
        name ??= names[0];
        if (!names.Contains(name))
        {
            var fits = Enum.GetValues<AutoMLTask>().Where(t => NamesFor(t).Contains(name)).Select(t => t.ToString().ToLowerInvariant()).ToList();
            throw new ArgumentException($"Metric '{name}' is not a metric of the {task.ToString().ToLowerInvariant()} task; use one of: {string.Join(", ", names)}" +
                (fits.Count > 0 ? $" ('{name}' is a metric of: {string.Join(", ", fits)})." : "."), nameof(name));
        }
        return task switch
        {
            AutoMLTask.Ordinal => Ordinal(name, labelColumnName),
            AutoMLTask.Survival => Survival(name, timeColumnName, eventColumnName, eventValue),
            AutoMLTask.SemiSupervised when name != "logloss" => new(name, true, (_, scored) =>
            {
                var evaluation = SemiSupervisedEvaluator.Evaluate(scored, labelColumnName);
                return name == "accuracy" ? evaluation.Accuracy : evaluation.MacroF1;
            }),
            AutoMLTask.Binary => Binary(name, labelColumnName),
            AutoMLTask.Regression => Regression(name, labelColumnName),
            _ => Multiclass(name, labelColumnName),
        };
    }

    private static AutoMLMetric Ordinal(string name, string label) => new(name, name is "qwk" or "accuracy", (_, scored) =>
    {
        var e = OrdinalEvaluator.Evaluate(scored, label);
        return name switch
        {
            "brier" => e.BrierScore,
            "rps" => e.RankedProbabilityScore,
            "rarebrier" => e.RareClassBrierScore,
            "qwk" => e.QuadraticWeightedKappa,
            "logloss" => e.LogLoss,
            _ => e.Accuracy,
        };
    });

    private static AutoMLMetric Survival(string name, string time, string @event, double? eventValue) => new(name, name is "cindex" or "loglik", (_, scored) =>
    {
        var e = SurvivalEvaluator.Evaluate(scored, time, @event, eventValue);
        return name switch
        {
            "cindex" => e.ConcordanceIndex,
            "ibs" => e.IntegratedBrierScore,
            _ => e.LogLikelihood / e.RowCount,
        };
    });

    private static AutoMLMetric Multiclass(string name, string label) => new(name, name != "logloss", (ml, scored) =>
    {
        var m = ml.MulticlassClassification.Evaluate(scored, label);
        return name switch
        {
            "accuracy" => m.MicroAccuracy,
            "logloss" => m.LogLoss,
            _ => MacroF1(m.ConfusionMatrix),
        };
    });

    private static AutoMLMetric Binary(string name, string label) => new(name, name != "logloss", (ml, scored) =>
    {
        var m = ml.BinaryClassification.Evaluate(scored, label);
        return name switch
        {
            "accuracy" => m.Accuracy,
            "logloss" => m.LogLoss,
            "auc" => m.AreaUnderRocCurve,
            _ => MacroF1(m.ConfusionMatrix),
        };
    });

    private static AutoMLMetric Regression(string name, string label) => new(name, name == "r2", (ml, scored) =>
    {
        var m = ml.Regression.Evaluate(scored, label);
        return name switch
        {
            "rmse" => m.RootMeanSquaredError,
            "r2" => m.RSquared,
            _ => m.MeanAbsoluteError,
        };
    });

    /// <summary>Macro-averaged F1 from ML.NET's confusion matrix (rows = truth, columns = prediction); a class never predicted nor present counts 0.</summary>
    private static double MacroF1(ConfusionMatrix matrix)
    {
        var k = matrix.NumberOfClasses;
        double sum = 0;
        for (var c = 0; c < k; c++)
        {
            double truePositive = matrix.Counts[c][c], predicted = 0, actual = 0;
            for (var j = 0; j < k; j++)
            {
                predicted += matrix.Counts[j][c];
                actual += matrix.Counts[c][j];
            }
            sum += predicted + actual == 0 ? 0 : 2 * truePositive / (predicted + actual);
        }
        return sum / k;
    }
}
