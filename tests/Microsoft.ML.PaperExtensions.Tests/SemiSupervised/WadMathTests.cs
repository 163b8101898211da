using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.SemiSupervised;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Tests.SemiSupervised;

/// <summary>The exact properties of WAD's scores, weights, promotion schedule, student loss and NT-Xent loss (spec, section 7).</summary>
[TestClass]
public sealed class WadMathTests
{
    [ClassInitialize]
    public static void Initialise(TestContext _) => TorchRuntime.EnsureInitialized();

    private static Tensor Normalised(double[,] values) => ContrastiveTeacher.Normalise(tensor(values));

    private static Tensor RandomEmbeddings(int rows, int dimension, int seed)
    {
        var random = new Random(seed);
        var values = new double[rows, dimension];
        for (var i = 0; i < rows; i++) for (var j = 0; j < dimension; j++) values[i, j] = random.NextDouble() * 2 - 1;
        return Normalised(values);
    }

    private static readonly int[] AnchorClasses = [0, 0, 1, 1, 1, 2, 3, 3];

    [TestMethod]
    public void WeightIsTheTopTwoMarginBetweenZeroAndTwo()
    {
        using var scope = NewDisposeScope();
        var result = AnchorScores.Compute(RandomEmbeddings(200, 5, 1), RandomEmbeddings(8, 5, 2), AnchorClasses, 4, AnchorScoring.NearestAnchor, null);
        for (var i = 0; i < 200; i++)
        {
            var scores = result.Scores.AsSpan(i * 4, 4).ToArray();
            var sorted = scores.OrderDescending().ToArray();
            Assert.AreEqual(sorted[0] - sorted[1], result.Weights[i], 1e-15);
            Assert.IsTrue(result.Weights[i] >= 0 && result.Weights[i] <= 2);
            Assert.AreEqual(Array.IndexOf(scores, sorted[0]), (int)result.PseudoClasses[i]);
            Assert.AreEqual(sorted[0], result.TopScores[i]);
        }
    }

    [TestMethod]
    public void ScoreIsTheHighestCosineToTheClassAnchors()
    {
        // Row (1, 0); class 0 anchors at 0 and 60 degrees, class 1 at 90 degrees: s_0 = 1, s_1 = 0.
        var rows = Normalised(new double[,] { { 1, 0 }, { 0, 0 } });
        var anchors = Normalised(new double[,] { { 1, 0 }, { 0.5, Math.Sqrt(3) / 2 }, { 0, 1 } });
        var result = AnchorScores.Compute(rows, anchors, [0, 0, 1], 2, AnchorScoring.NearestAnchor, null);
        // The 1e-8 norm guard makes a unit cosine 1 - 1e-8.
        Assert.AreEqual(1.0, result.Scores[0], 1e-7);
        Assert.AreEqual(0.0, result.Scores[1], 1e-7);
        Assert.AreEqual(1.0, result.Weights[0], 1e-7);
        // A zero embedding has cosine 0 to every anchor: a tie, so class 0 and weight 0.
        CollectionAssert.AreEqual(new[] { 0.0, 0.0 }, result.Scores[2..]);
        Assert.AreEqual(0L, result.PseudoClasses[1]);
        Assert.AreEqual(0.0, result.Weights[1]);
    }

    [TestMethod]
    public void TiesGiveTheLowestClassAndZeroWeight()
    {
        var rows = Normalised(new double[,] { { 0, 1 } });
        var anchors = Normalised(new double[,] { { 1, 0 }, { 1, 1 }, { -1, 1 } });
        var result = AnchorScores.Compute(rows, anchors, [0, 1, 2], 3, AnchorScoring.NearestAnchor, null);
        Assert.AreEqual(result.Scores[1], result.Scores[2]);
        Assert.AreEqual(1L, result.PseudoClasses[0]);
        Assert.AreEqual(0.0, result.Weights[0]);
    }

    [TestMethod]
    public void ScalingAnEmbeddingChangesNothing()
    {
        using var scope = NewDisposeScope();
        var raw = RandomEmbeddings(50, 6, 3).mul(3.7);
        var anchors = RandomEmbeddings(8, 6, 4);
        var a = AnchorScores.Compute(ContrastiveTeacher.Normalise(raw), anchors, AnchorClasses, 4, AnchorScoring.NearestAnchor, null);
        var b = AnchorScores.Compute(ContrastiveTeacher.Normalise(raw.mul(1234.5)), ContrastiveTeacher.Normalise(anchors.mul(100)), AnchorClasses, 4, AnchorScoring.NearestAnchor, null);
        CollectionAssert.AreEqual(a.PseudoClasses, b.PseudoClasses);
        for (var i = 0; i < a.Weights.Length; i++) Assert.AreEqual(a.Weights[i], b.Weights[i], 1e-7);   // up to the 1e-8 norm guard
    }

    [TestMethod]
    public void PermutingRowsOrAnchorsPermutesTheResults()
    {
        using var scope = NewDisposeScope();
        var rows = RandomEmbeddings(40, 5, 5);
        var anchors = RandomEmbeddings(8, 5, 6);
        var reference = AnchorScores.Compute(rows, anchors, AnchorClasses, 4, AnchorScoring.NearestAnchor, null);
        var rowOrder = Enumerable.Range(0, 40).Reverse().Select(i => (long)((i * 7) % 40)).ToArray();
        var anchorOrder = new long[] { 7, 2, 5, 0, 3, 6, 1, 4 };
        var permuted = AnchorScores.Compute(rows.index_select(0, tensor(rowOrder)), anchors.index_select(0, tensor(anchorOrder)),
            anchorOrder.Select(a => AnchorClasses[a]).ToArray(), 4, AnchorScoring.NearestAnchor, null);
        for (var i = 0; i < 40; i++)
        {
            Assert.AreEqual(reference.PseudoClasses[rowOrder[i]], permuted.PseudoClasses[i]);
            Assert.AreEqual(reference.Weights[rowOrder[i]], permuted.Weights[i], 1e-14);   // dot products may sum in another order
        }
    }

    [TestMethod]
    public void AddingAnAnchorNeverLowersAScore()
    {
        using var scope = NewDisposeScope();
        var rows = RandomEmbeddings(100, 5, 7);
        var anchors = RandomEmbeddings(9, 5, 8);
        var before = AnchorScores.Compute(rows, anchors.narrow(0, 0, 8), AnchorClasses, 4, AnchorScoring.NearestAnchor, null);
        var after = AnchorScores.Compute(rows, anchors, [.. AnchorClasses, 1], 4, AnchorScoring.NearestAnchor, null);
        var raised = 0;
        for (var i = 0; i < before.Scores.Length; i++)
        {
            Assert.IsTrue(after.Scores[i] >= before.Scores[i]);
            if (after.Scores[i] > before.Scores[i]) raised++;
        }
        Assert.IsTrue(raised > 0, "the new anchor should be the nearest for some rows");
    }

    [TestMethod]
    public void PrototypeScoringIsTheCosineToTheNormalisedClassMean()
    {
        var rows = Normalised(new double[,] { { 1, 0 } });
        var anchors = Normalised(new double[,] { { 1, 1 }, { 1, -1 }, { 0, 1 } });
        var result = AnchorScores.Compute(rows, anchors, [0, 0, 1], 2, AnchorScoring.Prototype, null);
        Assert.AreEqual(1.0, result.Scores[0], 1e-7);   // mean of the class-0 anchors points along (1, 0)
        Assert.AreEqual(0.0, result.Scores[1], 1e-7);
    }

    [TestMethod]
    public void MinTopScoreZeroesTheWeightOfRowsFarFromEveryAnchor()
    {
        var rows = Normalised(new double[,] { { 1, 0.1 }, { -1, -1 } });
        var anchors = Normalised(new double[,] { { 1, 0 }, { 0, 1 } });
        var result = AnchorScores.Compute(rows, anchors, [0, 1], 2, AnchorScoring.NearestAnchor, 0.5);
        Assert.IsTrue(result.Weights[0] > 0.8);
        Assert.AreEqual(0.0, result.Weights[1]);
    }

    [TestMethod]
    public void PromotionScheduleMatchesTheReleasedCode()
    {
        double[] expected = [0.064, 0.036, 0.016, 0.004, 0, 0];
        for (var i = 1; i <= 6; i++) Assert.AreEqual(expected[i - 1], SemiSupervisedFitter.PromotionFraction(0.1, i, 5), 1e-15);
    }

    [TestMethod]
    public void PromotedRowsAreTheSmallestCrossEntropies()
    {
        // Probabilities of the pseudo-label: 0.9, 0.2, 0.6, 0.9 (tie: the larger weight first, then the earlier), 0.3.
        double[] probabilities = [0.9, 0.1, 0.8, 0.2, 0.4, 0.6, 0.1, 0.9, 0.3, 0.7];
        long[] pseudo = [0, 1, 1, 1, 0];
        bool[] all = [true, true, true, true, true];
        CollectionAssert.AreEqual(new[] { 0, 3, 2 }, SemiSupervisedFitter.MostAgreed(probabilities, pseudo, [0.5, 0.5, 0.5, 0.5, 0.5], all, 3));
        CollectionAssert.AreEqual(new[] { 3, 0, 2 }, SemiSupervisedFitter.MostAgreed(probabilities, pseudo, [0.2, 0.5, 0.5, 0.7, 0.5], all, 3));
        // Rows the teacher did not score (labels never reached them) are never promoted, however sure the student is.
        CollectionAssert.AreEqual(new[] { 3, 2, 4 }, SemiSupervisedFitter.MostAgreed(probabilities, pseudo, [0.5, 0.5, 0.5, 0.5, 0.5], [false, true, true, true, true], 3));
    }

    [TestMethod]
    public void ZeroWeightsGiveTheSupervisedGradientAndUnitWeightsPlainPseudoLabelling()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var layer = nn.Linear(4, 3);
        var xl = randn(6, 4);
        var yl = tensor(new long[] { 0, 1, 2, 0, 1, 2 });
        var xu = randn(8, 4);
        var yu = tensor(new long[] { 2, 2, 1, 0, 0, 1, 2, 0 });
        double[] Gradient(Func<Tensor> loss)
        {
            layer.zero_grad();
            loss().backward();
            return TensorCopy.ToArray<float>(layer.weight!.grad!).Select(v => (double)v).ToArray();
        }
        var supervised = Gradient(() => MlpStudent.Loss(layer.forward(xl), yl));
        var zero = Gradient(() => MlpStudent.Loss(layer.forward(xl), yl, layer.forward(xu), yu, zeros(8)));
        CollectionAssert.AreEqual(supervised, zero);
        var plain = Gradient(() => nn.functional.cross_entropy(layer.forward(xl), yl).add(nn.functional.cross_entropy(layer.forward(xu), yu)));
        var unit = Gradient(() => MlpStudent.Loss(layer.forward(xl), yl, layer.forward(xu), yu, ones(8)));
        for (var i = 0; i < plain.Length; i++) Assert.AreEqual(plain[i], unit[i], 1e-6);
    }

    [TestMethod]
    public void NtXentOfIdenticalEmbeddingsIsLogOfTwoBMinusOne()
    {
        using var scope = NewDisposeScope();
        var same = ones(5, 3).mul(0.7);
        Assert.AreEqual(Math.Log(9), ContrastiveTeacher.NtXent(same, same, 0.5).item<float>(), 1e-5);
    }

    /// <summary>NT-Xent of B = 2 rows written out from its definition, with the gradient by central differences.</summary>
    [TestMethod]
    public void NtXentAndItsGradientMatchAHandComputation()
    {
        double[][] views = [[1, 0], [0.6, 0.8], [0.8, 0.6], [0, -1]];   // rows 0, 1 (first view), rows 0, 1 (second view)
        const double tau = 0.5;
        static double Cos(double[] a, double[] b) => (a[0] * b[0] + a[1] * b[1]) / (Math.Sqrt(a[0] * a[0] + a[1] * a[1]) * Math.Sqrt(b[0] * b[0] + b[1] * b[1]));
        double Loss(double[][] v)
        {
            var total = 0.0;
            for (var a = 0; a < 4; a++)
            {
                var positive = (a + 2) % 4;
                var denominator = Enumerable.Range(0, 4).Where(k => k != a).Sum(k => Math.Exp(Cos(v[a], v[k]) / tau));
                total += -Math.Log(Math.Exp(Cos(v[a], v[positive]) / tau) / denominator);
            }
            return total / 4;
        }
        // By hand: cosines c01 = 0.6, c02 = 0.8, c03 = 0, c12 = 0.96, c13 = -0.8, c23 = -0.6; positives 0-2 and 1-3; tau = 0.5.
        var byHand = -(Math.Log(Math.Exp(1.6) / (Math.Exp(1.2) + Math.Exp(1.6) + 1))
            + Math.Log(Math.Exp(-1.6) / (Math.Exp(1.2) + Math.Exp(1.92) + Math.Exp(-1.6)))
            + Math.Log(Math.Exp(1.6) / (Math.Exp(1.6) + Math.Exp(1.92) + Math.Exp(-1.2)))
            + Math.Log(Math.Exp(-1.6) / (1 + Math.Exp(-1.6) + Math.Exp(-1.2)))) / 4;
        Assert.AreEqual(byHand, Loss(views), 1e-12);

        using var scope = NewDisposeScope();
        var first = tensor(views[0].Concat(views[1]).ToArray(), [2, 2], ScalarType.Float64).requires_grad_();
        var second = tensor(views[2].Concat(views[3]).ToArray(), [2, 2], ScalarType.Float64).requires_grad_();
        var loss = ContrastiveTeacher.NtXent(first, second, tau);
        Assert.AreEqual(Loss(views), loss.item<double>(), 1e-7);   // the 1e-8 norm guard
        loss.backward();
        var gradient = TensorCopy.ToArray(first.grad!).Concat(TensorCopy.ToArray(second.grad!)).ToArray();
        const double h = 1e-6;
        for (var i = 0; i < 8; i++)
        {
            var up = views.Select(v => v.ToArray()).ToArray();
            var down = views.Select(v => v.ToArray()).ToArray();
            up[i / 2][i % 2] += h;
            down[i / 2][i % 2] -= h;
            Assert.AreEqual((Loss(up) - Loss(down)) / (2 * h), gradient[i], 1e-7, $"gradient entry {i}");
        }
    }

    [TestMethod]
    public void ScarfReplacesAFixedShareOfFeaturesWithTheSameFeatureOfOtherRows()
    {
        using var scope = NewDisposeScope();
        const int n = 200, p = 10;
        var values = new float[n * p];
        for (var i = 0; i < n; i++) for (var j = 0; j < p; j++) values[i * p + j] = i * 100 + j;
        var all = tensor(values, [n, p]);
        var settings = new TeacherSettings { EncoderWidth = 8, ProjectionDimension = 4, Epochs = 1, BatchSize = 8, LearningRate = 1e-3, Temperature = 0.5, Augmentation = ContrastiveAugmentation.Scarf, CorruptionRate = 0.6, VimeMaskProbability = 0.3 };
        using var generator = new Generator(5);
        var corrupted = TensorCopy.ToArray<float>(ContrastiveTeacher.Corrupt(all, all, settings, generator));
        var changed = 0;
        for (var i = 0; i < n; i++)
        {
            var rowChanged = 0;
            for (var j = 0; j < p; j++)
            {
                var v = (int)corrupted[i * p + j];
                Assert.AreEqual(j, v % 100, "a replacement comes from the same feature");
                if (v != values[i * p + j]) rowChanged++;
            }
            Assert.IsTrue(rowChanged <= 6, $"row {i} has {rowChanged} replaced features; floor(0.6 x 10) = 6");
            changed += rowChanged;
        }
        // Each of the 6 picked features changes unless the donor is the row itself (probability 1/200).
        Assert.AreEqual(6 * n * (1 - 1.0 / n), changed, 15);
    }
}
