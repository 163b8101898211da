using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions;
using Microsoft.ML.PaperExtensions.Metrics;
using Microsoft.ML.PaperExtensions.Protocols;
using Microsoft.ML.PaperExtensions.SemiSupervised;

namespace Microsoft.ML.PaperExtensions.TestSupport;

/// <summary>
/// digits.csv under class mismatch (WAD spec, section 5): digits 0-5 known, 6-9 unknown, 3 labelled rows per known class,
/// 55% of each known class held out for testing (so that rho = 0.6 is reachable with the 714 unknown rows), the remaining
/// known rows plus ceil(rho T / (1 - rho)) unknown rows unlabelled.
/// </summary>
public static class DigitsMismatch
{
    /// <summary>The known digits.</summary>
    public static readonly int[] KnownClasses = [0, 1, 2, 3, 4, 5];

    /// <summary>Labelled rows per known class.</summary>
    public const int LabeledPerClass = 3;

    /// <summary>Share of each known class held out for testing.</summary>
    public const double TestFraction = 0.55;

    /// <summary>One image: the label is NaN for unlabelled rows.</summary>
    public sealed class Row
    {
        /// <summary>The digit, or NaN when unlabelled.</summary>
        public float Label { get; set; }

        /// <summary>The 64 pixel counts.</summary>
        [VectorType(64)]
        public float[] Features { get; set; } = [];
    }

    /// <summary>All rows of digits.csv: pixel features and the digit.</summary>
    public static (float[][] Features, int[] Labels) Load(string path)
    {
        var lines = File.ReadAllLines(path).Skip(1).Where(l => l.Length > 0).ToArray();
        var features = new float[lines.Length][];
        var labels = new int[lines.Length];
        for (var i = 0; i < lines.Length; i++)
        {
            var cells = lines[i].Split(',');
            features[i] = cells[..64].Select(c => float.Parse(c, CultureInfo.InvariantCulture)).ToArray();
            labels[i] = int.Parse(cells[64], CultureInfo.InvariantCulture);
        }
        return (features, labels);
    }

    /// <summary>The split for one mismatch and seed.</summary>
    public static ClassMismatchSplit Split(int[] labels, double mismatch, int seed) =>
        ClassMismatchSplit.Create(labels, KnownClasses, LabeledPerClass, mismatch, TestFraction, seed);

    /// <summary>The training rows (labelled, then unlabelled with NaN labels) and the test rows.</summary>
    public static (IDataView Train, IDataView Test) ToDataViews(MLContext ml, float[][] features, int[] labels, ClassMismatchSplit split)
    {
        var train = split.Labeled.Select(i => new Row { Label = labels[i], Features = features[i] })
            .Concat(split.Unlabeled.Select(i => new Row { Label = float.NaN, Features = features[i] }));
        var test = split.Test.Select(i => new Row { Label = labels[i], Features = features[i] });
        return (ml.Data.LoadFromEnumerable(train.ToList()), ml.Data.LoadFromEnumerable(test.ToList()));
    }

    /// <summary>Known-class test scores and the weights given to the pool's known and unknown rows.</summary>
    public sealed record Result(SemiSupervisedMethod Method, double Mismatch, int Seed, double Accuracy, double MacroF1, double MeanWeightKnown,
        double MeanWeightUnknown, double WeightAuc, double Seconds)
    {
        /// <summary>Share of the pool's known-digit rows whose first-round pseudo-label is right (NaN without pseudo-labels).</summary>
        public double PseudoLabelAccuracyKnown { get; init; } = double.NaN;

        /// <summary>
        /// AUROC of <c>KnownClassConfidence</c>, known-digit test rows against the unknown digits left out of the pool added to
        /// them (1 = every unknown row below every known one; NaN without the column).
        /// </summary>
        public double UnknownAuroc { get; init; } = double.NaN;
    }

    /// <summary>Rows of unknown digits that are not in the pool (the open-set test rows).</summary>
    public static IEnumerable<int> UnknownOutsidePool(int[] labels, ClassMismatchSplit split)
    {
        var used = split.Unlabeled.ToHashSet();
        return Enumerable.Range(0, labels.Length).Where(i => !KnownClasses.Contains(labels[i]) && !used.Contains(i));
    }

    /// <summary>Trains <paramref name="method"/> on one split and scores it.</summary>
    public static Result Run(MLContext ml, float[][] features, int[] labels, ClassMismatchSplit split, SemiSupervisedMethod method, int seed,
        Action<WadTrainer.Options>? configure = null)
    {
        var (train, test) = ToDataViews(ml, features, labels, split);
        var options = new WadTrainer.Options { Method = method, Seed = seed };
        configure?.Invoke(options);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var model = ml.SemiSupervised().Trainers.Wad(options).Fit(train);
        var seconds = watch.Elapsed.TotalSeconds;
        var scored = model.Transform(test);
        var predicted = scored.GetColumn<uint>(ColumnNames.PredictedLabel).Select(k => int.Parse(model.Model.ClassNames[(int)k - 1], CultureInfo.InvariantCulture)).ToArray();
        var truth = split.Test.Select(i => labels[i]).ToArray();
        var k = KnownClasses.Length;
        // Row i of the pool is unlabelled row i of the training data, which is input row Labeled.Length + i.
        var outcomes = model.Model.UnlabeledRows;
        var weights = outcomes.Select(o => o.Weight).ToArray();
        var unknown = outcomes.Select(o => o.InputRow - split.Labeled.Length >= split.Unlabeled.Length - split.UnknownInPool).ToArray();
        double Mean(bool isUnknown) => weights.Where((_, i) => unknown[i] == isUnknown).DefaultIfEmpty(double.NaN).Average();
        var auc = split.UnknownInPool > 0 && split.UnknownInPool < weights.Length && method == SemiSupervisedMethod.Wad
            ? ClassificationMetrics.AreaUnderRocCurve(weights, unknown.Select(u => !u).ToArray())
            : double.NaN;
        var knownPool = outcomes.Where((o, i) => !unknown[i] && o.PseudoClass >= 0).ToList();
        var pseudoAccuracy = knownPool.Count == 0 ? double.NaN
            : knownPool.Count(o => int.Parse(model.Model.ClassNames[o.PseudoClass], CultureInfo.InvariantCulture) == labels[split.Unlabeled[o.InputRow - split.Labeled.Length]]) / (double)knownPool.Count;
        var unknownAuroc = double.NaN;
        if (model.Model.HasTeacher)
        {
            var openTest = ml.Data.LoadFromEnumerable(split.Test.Concat(UnknownOutsidePool(labels, split)).Select(i => new Row { Label = labels[i], Features = features[i] }).ToList());
            unknownAuroc = ml.SemiSupervised().Evaluate(model.Transform(openTest), confidenceColumnName: SemiSupervisedTransformer.KnownClassConfidenceColumnName).UnknownAuroc ?? double.NaN;
        }
        return new Result(method, split.AchievedMismatch, seed, ClassificationMetrics.Accuracy(truth, predicted), ClassificationMetrics.MacroF1(truth, predicted, k),
            Mean(false), Mean(true), auc, seconds) { PseudoLabelAccuracyKnown = pseudoAccuracy, UnknownAuroc = unknownAuroc };
    }
}
