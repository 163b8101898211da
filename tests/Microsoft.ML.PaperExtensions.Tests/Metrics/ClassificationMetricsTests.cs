using Microsoft.ML.PaperExtensions.Protocols;
using Microsoft.ML.PaperExtensions.Metrics;

namespace Microsoft.ML.PaperExtensions.Tests.Metrics;

[TestClass]
public sealed class ClassificationMetricsTests
{
    [TestMethod]
    public void MacroF1MatchesAHandComputation()
    {
        // Class 0: TP 1, FP 1, FN 1 -> 0.5; class 1: TP 2, FP 1 -> 0.8; class 2: TP 0, FN 1 -> 0.
        Assert.AreEqual((0.5 + 0.8 + 0) / 3, ClassificationMetrics.MacroF1([0, 0, 1, 1, 2], [0, 1, 1, 1, 0], 3), 1e-15);
        Assert.AreEqual(0.6, ClassificationMetrics.Accuracy([0, 0, 1, 1, 2], [0, 1, 1, 1, 0]), 1e-15);
    }

    [TestMethod]
    public void AreaUnderRocCurveCountsOrderedPairsWithHalfTies()
    {
        // scikit-learn: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.75.
        Assert.AreEqual(0.75, ClassificationMetrics.AreaUnderRocCurve([0.1, 0.4, 0.35, 0.8], [false, false, true, true]), 1e-15);
        // One tie between a positive and a negative counts 1/2: pairs (p, n) = 4, wins 3.5.
        Assert.AreEqual(0.875, ClassificationMetrics.AreaUnderRocCurve([0.1, 0.4, 0.4, 0.8], [false, false, true, true]), 1e-15);
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.AreaUnderRocCurve([0.1, 0.2], [true, true]));
    }

    [TestMethod]
    public void MismatchSplitReachesRhoAndKeepsRolesApart()
    {
        // 4 classes of 50 rows: 0 and 1 known, 2 and 3 unknown.
        var labels = Enumerable.Range(0, 200).Select(i => i % 4).ToArray();
        var split = ClassMismatchSplit.Create(labels, [0, 1], labeledPerClass: 5, mismatch: 0.5, testFraction: 0.2, seed: 1);
        Assert.AreEqual(10, split.Labeled.Length);
        Assert.AreEqual(20, split.Test.Length);
        var knownInPool = split.Unlabeled.Length - split.UnknownInPool;
        Assert.AreEqual(70, knownInPool);                                   // 2 x (50 - 10 test - 5 labelled)
        Assert.AreEqual(70, split.UnknownInPool);                           // ceil(0.5 x 70 / 0.5)
        Assert.AreEqual(0.5, split.AchievedMismatch, 1e-15);
        Assert.IsTrue(split.Test.All(i => labels[i] < 2) && split.Labeled.All(i => labels[i] < 2));
        Assert.IsTrue(split.Unlabeled.Skip(knownInPool).All(i => labels[i] >= 2));
        Assert.AreEqual(split.Labeled.Length + split.Unlabeled.Length + split.Test.Length, split.Labeled.Concat(split.Unlabeled).Concat(split.Test).Distinct().Count());

        // Not enough unknown rows: capped, and the achieved rho says so.
        var capped = ClassMismatchSplit.Create(labels, [0, 1], 5, 0.9, 0.2, 1);
        Assert.AreEqual(100, capped.UnknownInPool);
        Assert.AreEqual(100.0 / 170, capped.AchievedMismatch, 1e-15);
    }
}
