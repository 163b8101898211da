using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.SemiSupervised;
using Microsoft.ML.PaperExtensions.TestSupport;
using Microsoft.ML.PaperExtensions.Tests.Conformance;

namespace Microsoft.ML.PaperExtensions.Tests.SemiSupervised;

/// <remarks>
/// Not run beside other classes: with it, WAD tests running at the same time failed about one run in three inside libtorch
/// ("Expected false to be true ... toFloat at c10/core/Scalar.h:140", in Adam's add_ / mul_). TorchSharp 0.107 passes
/// implicitly created <c>Scalar</c>s to native code without keeping them alive, so a garbage collection during the call
/// can finalize one in use (dotnet/TorchSharp#1434); these fits allocate large arrays (training rows, ONNX graphs) and
/// make such collections frequent. The classes pass on their own and in sequence.
/// </remarks>
[TestClass]
[DoNotParallelize]
public sealed class LabelSpreadingTests
{
    public sealed class Prediction
    {
        [VectorType(3)]
        public float[] Score { get; set; } = [];

        public uint PredictedLabel { get; set; }

        public float KnownClassConfidence { get; set; }
    }

    /// <summary>One row of Data/reference/semisupervised/label-spreading-digits.csv (see label-spreading.py beside it).</summary>
    private sealed record Reference(int Row, string Role, int Digit, int Knn, double KnnTop, int Rbf, double RbfTop, int PropKnn, double PropKnnTop, int PropRbf, double PropRbfTop);

    private static readonly Lazy<(float[][] Features, int[] Labels, Reference[] Rows)> DigitsReference = new(() =>
    {
        var (features, labels) = DigitsMismatch.Load(Path.Combine(AppContext.BaseDirectory, "Data", "digits.csv"));
        var rows = File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Data", "reference", "semisupervised", "label-spreading-digits.csv"))
            .Where(l => !l.StartsWith('#')).Skip(1).Select(l => l.Split(','))
            .Select(c => new Reference(int.Parse(c[0], CultureInfo.InvariantCulture), c[1], int.Parse(c[2], CultureInfo.InvariantCulture),
                int.Parse(c[3], CultureInfo.InvariantCulture), double.Parse(c[4], CultureInfo.InvariantCulture),
                int.Parse(c[5], CultureInfo.InvariantCulture), double.Parse(c[6], CultureInfo.InvariantCulture),
                int.Parse(c[7], CultureInfo.InvariantCulture), double.Parse(c[8], CultureInfo.InvariantCulture),
                int.Parse(c[9], CultureInfo.InvariantCulture), double.Parse(c[10], CultureInfo.InvariantCulture)))
            .ToArray();
        return (features, labels, rows);
    });

    /// <summary>
    /// Fits on the reference's training rows (labelled + pool, in file order) and returns, per reference row, our class
    /// (-1 = none) and top probability: transduced for training rows, predicted through the ONNX graph for test rows.
    /// </summary>
    private static (int Class, double Top)[] OursOnDigits(LabelSpreadingKernel kernel, double? gamma = null, bool propagation = false)
    {
        var (features, labels, reference) = DigitsReference.Value;
        var ml = new MLContext(1);
        var training = reference.Where(r => r.Role != "test").ToArray();
        var test = reference.Where(r => r.Role == "test").ToArray();
        var train = ml.Data.LoadFromEnumerable(training.Select(r => new DigitsMismatch.Row { Label = r.Role == "labeled" ? labels[r.Row] : float.NaN, Features = features[r.Row] }).ToList());
        var model = ml.SemiSupervised().Trainers.LabelSpreading(new LabelSpreadingTrainer.Options
        {
            Kernel = kernel,
            Gamma = gamma,
            StandardizeFeatures = false,
            HardClamping = propagation,
            MaximumNumberOfIterations = propagation ? 1000 : 30,
        }).Fit(train);
        var digitOf = model.Model.ClassNames.Select(n => int.Parse(n, CultureInfo.InvariantCulture)).ToArray();
        var result = new (int, double)[reference.Length];
        for (var i = 0; i < training.Length; i++) result[training[i].Row] = training[i].Role == "labeled" ? (labels[training[i].Row], double.NaN) : (-2, double.NaN);
        var pool = training.Where(r => r.Role == "pool").ToArray();
        foreach (var o in model.Model.UnlabeledRows)
        {
            result[training[o.InputRow].Row] = (o.Class < 0 ? -1 : digitOf[o.Class], o.Confidence);
        }
        var scored = model.Transform(ml.Data.LoadFromEnumerable(test.Select(r => new DigitsMismatch.Row { Label = labels[r.Row], Features = features[r.Row] }).ToList()));
        var predicted = scored.GetColumn<uint>(ColumnNames.PredictedLabel).ToArray();
        var confidence = scored.GetColumn<float>(SemiSupervisedTransformer.KnownClassConfidenceColumnName).ToArray();
        for (var i = 0; i < test.Length; i++) result[test[i].Row] = (predicted[i] == 0 ? -1 : digitOf[predicted[i] - 1], confidence[i]);
        Assert.AreEqual(pool.Length, model.Model.UnlabeledRowCount);
        return result;
    }

    /// <param name="tolerance">How close our top probability must be to scikit-learn's, on <paramref name="closeShare"/> of the rows.</param>
    /// <param name="closeShare">
    /// Pixel counts are integers, so squared
    /// distances tie: 1.8% of the training rows have a tie at their 7th neighbour, and which tied row joins the kNN graph
    /// depends on row order (scikit-learn's tree, our canonical order). A different edge moves the probabilities of the rows
    /// around it a little; the class rarely. (With scikit-learn's own graph, the same iterations in numpy reproduce its
    /// distributions to 2e-16.) The RBF kernel has no such choice.
    /// </param>
    private static void AssertAgreement(LabelSpreadingKernel kernel, double? gamma, Func<Reference, (int Class, double Top)> expected, double tolerance, double closeShare,
        bool propagation = false)
    {
        var reference = DigitsReference.Value.Rows;
        var ours = OursOnDigits(kernel, gamma, propagation);
        foreach (var role in new[] { "pool", "test" })
        {
            var rows = reference.Where(r => r.Role == role).ToArray();
            var agree = rows.Count(r => ours[r.Row].Class == expected(r).Class);
            var close = rows.Count(r => Math.Abs(ours[r.Row].Top - expected(r).Top) < tolerance);
            Console.WriteLine($"{kernel} {role}: {agree} of {rows.Length} classes agree, {close} top probabilities within {tolerance}");
            Assert.IsTrue(agree >= 0.99 * rows.Length, $"{kernel} {role}: {agree} of {rows.Length} agree with scikit-learn");
            Assert.IsTrue(close >= closeShare * rows.Length, $"{kernel} {role}: {close} of {rows.Length} top probabilities within {tolerance} of scikit-learn's");
        }
    }

    [TestMethod]
    public void KnnReproducesScikitLearnLabelSpreadingOnDigits() =>
        AssertAgreement(LabelSpreadingKernel.Knn, null, r => (r.Knn, r.KnnTop), 0.02, 0.95);

    [TestMethod]
    public void RbfReproducesScikitLearnLabelSpreadingOnDigits() =>
        AssertAgreement(LabelSpreadingKernel.Rbf, 0.005, r => (r.Rbf, r.RbfTop), 1e-4, 0.99);

    // Label propagation does not converge within scikit-learn's 1,000 iterations on the kNN graph (nor do we), so both stop at
    // the same iteration and the tied-neighbour edges of the kNN case weigh more: classes still agree on 99% (1407 of 1408 pool
    // rows, 359 of 359 test rows), top probabilities within 0.02 on 92% / 89%.
    [TestMethod]
    public void KnnPropagationReproducesScikitLearnLabelPropagationOnDigits() =>
        AssertAgreement(LabelSpreadingKernel.Knn, null, r => (r.PropKnn, r.PropKnnTop), 0.02, 0.85, propagation: true);

    [TestMethod]
    public void RbfPropagationReproducesScikitLearnLabelPropagationOnDigits() =>
        AssertAgreement(LabelSpreadingKernel.Rbf, 0.005, r => (r.PropRbf, r.PropRbfTop), 1e-4, 0.99, propagation: true);

    [TestMethod]
    public void LabelPropagationKeepsEveryLabelledRowsLabelExactly()
    {
        // Deliberately wrong labels among rows of another class: spreading with a large alpha lets the neighbours move them,
        // propagation resets them every iteration, so their distributions stay one-hot.
        var ml = new MLContext(1);
        var small = WadTrainerTests.Small;
        var rows = small.Train.Select((r, i) => i < small.LabeledCount ? new MismatchMixture.Row { Label = (r.Label + 1) % 3, Features = r.Features } : r).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);
        var propagation = ml.SemiSupervised().Trainers.LabelSpreading(new LabelSpreadingTrainer.Options { HardClamping = true, MaximumNumberOfIterations = 1000, StandardizeFeatures = false })
            .Fit(data).Model;
        var spreading = ml.SemiSupervised().Trainers.LabelSpreading(new LabelSpreadingTrainer.Options { Alpha = 0.99, StandardizeFeatures = false }).Fit(data).Model;
        Assert.IsTrue(propagation.HardClamping);
        Assert.IsTrue(double.IsNaN(propagation.Alpha));
        var classOf = propagation.ClassNames.Select(n => float.Parse(n, CultureInfo.InvariantCulture)).ToArray();
        var k = classOf.Length;
        var p = rows[0].Features.Length;
        // The model keeps its training rows in a canonical order: find each labelled row by its (unscaled) features.
        int Position(LabelSpreadingModel model, float[] features) => Enumerable.Range(0, model.TrainingRowCount)
            .Single(j => Enumerable.Range(0, p).All(c => model.TrainingFeatures[j * p + c] == features[c]));
        var moved = 0;
        for (var i = 0; i < small.LabeledCount; i++)
        {
            var own = Array.IndexOf(classOf, rows[i].Label);
            var at = Position(propagation, rows[i].Features);
            CollectionAssert.AreEqual(Enumerable.Range(0, k).Select(c => c == own ? 1.0 : 0.0).ToArray(), propagation.Distributions.AsSpan(at * k, k).ToArray(), $"labelled row {i}");
            if (spreading.Distributions[Position(spreading, rows[i].Features) * k + own] < 0.999) moved++;
        }
        Assert.IsGreaterThan(0, moved, "spreading with alpha 0.99 does move some labelled rows (so the check above can fail)");
    }

    private static LabelSpreadingTransformer Fit(MLContext ml, IEnumerable<MismatchMixture.Row> rows, Action<LabelSpreadingTrainer.Options>? configure = null)
    {
        var options = new LabelSpreadingTrainer.Options();
        configure?.Invoke(options);
        return ml.SemiSupervised().Trainers.LabelSpreading(options).Fit(ml.Data.LoadFromEnumerable(rows.ToList()));
    }

    [TestMethod]
    public void PassesTheEstimatorConformanceChecks()
    {
        var ml = new MLContext(seed: 1);
        var small = WadTrainerTests.Small;
        var noFeatures = ml.Data.LoadFromEnumerable(small.Train.Select(r => new { r.Label }));
        var estimator = ml.SemiSupervised().Trainers.LabelSpreading();
        var model = EstimatorConformance.Check<MismatchMixture.Row, Prediction>(ml, estimator, small.Train,
            [new InvalidInput(noFeatures, "Features")],
            (context, data) =>
            {
                var pipeline = context.Transforms.Conversion.MapValueToKey("Label").Append(context.SemiSupervised().Trainers.LabelSpreading());
                return context.MulticlassClassification.CrossValidate(data, pipeline, numberOfFolds: 2).Select(f => f.Metrics.MacroAccuracy).ToList();
            });
        var accuracy = small.TestAccuracy(ml, model);
        Assert.IsTrue(accuracy > 0.9, $"accuracy {accuracy}");
        var loaded = LabelSpreadingModel.FromLoaded(model);
        Assert.AreEqual(((LabelSpreadingTransformer)model).Model.Iterations, loaded.Iterations);
    }

    [TestMethod]
    public void OptionsOutOfRangeAreNamed()
    {
        var ml = new MLContext(1);
        foreach (var (configure, name) in new (Action<LabelSpreadingTrainer.Options>, string)[]
        {
            (o => o.Alpha = 1, "Alpha"), (o => o.Alpha = 0, "Alpha"), (o => o.NumberOfNeighbors = 0, "NumberOfNeighbors"),
            (o => o.Gamma = -1, "Gamma"), (o => o.Tolerance = double.NaN, "Tolerance"), (o => o.UnknownThreshold = 2, "UnknownThreshold"),
        })
        {
            var options = new LabelSpreadingTrainer.Options();
            configure(options);
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => ml.SemiSupervised().Trainers.LabelSpreading(options));
            StringAssert.Contains(error.Message, name);
        }
    }

    [TestMethod]
    public void AlphaNearZeroKeepsLabelledRowsClamped()
    {
        // With alpha -> 0, F -> Y: a labelled row keeps its own class with probability -> 1 even when it sits among rows of
        // another class (here labelled rows get a deliberately wrong label), and through ONNX it predicts its label.
        var ml = new MLContext(1);
        var small = WadTrainerTests.Small;
        var rows = small.Train.Select((r, i) => i < small.LabeledCount ? new MismatchMixture.Row { Label = (r.Label + 1) % 3, Features = r.Features } : r).ToList();
        var model = Fit(ml, rows, o => o.Alpha = 1e-9);
        var labelled = rows.Take(small.LabeledCount).ToList();
        var predictions = ml.Data.CreateEnumerable<Prediction>(model.Transform(ml.Data.LoadFromEnumerable(labelled)), reuseRowObject: false).ToList();
        var keptOwnLabel = labelled.Zip(predictions).Count(t => t.Second.PredictedLabel == t.First.Label + 1);
        // A new row is the average of its k = 7 nearest training rows; a labelled row is one of its own neighbours, and the
        // others are unlabelled rows whose mass is ~alpha: its own one-hot dominates.
        Assert.AreEqual(labelled.Count, keptOwnLabel, "every labelled row predicts its (clamped) label");
        Assert.IsTrue(predictions.All(p => p.KnownClassConfidence > 0.999), string.Join(", ", predictions.Select(p => p.KnownClassConfidence)));
    }

    [TestMethod]
    public void TwoDisconnectedClustersWithOneLabelEachAreLabelledWholly()
    {
        // Two chains of 40 points on a line, 1,000 apart; one labelled point at the far end of each. The kNN graph (k = 3) has
        // two components, each connected: with enough iterations every row of a chain takes its chain's class.
        var rows = new List<MismatchMixture.Row>();
        for (var chain = 0; chain < 2; chain++)
        {
            for (var i = 0; i < 40; i++)
            {
                var features = new float[MismatchMixture.Dimension];
                features[0] = chain * 1000 + i;
                rows.Add(new MismatchMixture.Row { Label = i == 0 ? chain : float.NaN, Features = features });
            }
        }
        var model = Fit(new MLContext(1), rows, o =>
        {
            o.NumberOfNeighbors = 3;
            o.Tolerance = 0;
            o.MaximumNumberOfIterations = 200;
            o.StandardizeFeatures = false;
        }).Model;
        Assert.AreEqual(78, model.UnlabeledRows.Count);
        foreach (var o in model.UnlabeledRows) Assert.AreEqual(o.InputRow / 40, o.Class, $"row {o.InputRow}");
        Assert.IsTrue(model.UnlabeledRows.All(o => o.Confidence == 1), "no label crosses between components");
        Assert.AreEqual(0, model.UnreachedRowCount);

        // With scikit-learn's default tolerance the spreading stops early and the far ends of the chains stay unreached,
        // which the model reports.
        var early = Fit(new MLContext(1), rows, o => { o.NumberOfNeighbors = 3; o.StandardizeFeatures = false; }).Model;
        Assert.IsTrue(early.UnreachedRowCount > 0);
        Assert.IsTrue(early.Notes.Any(n => n.Contains("reached by no label", StringComparison.Ordinal)));
        Assert.IsTrue(early.UnlabeledRows.Where(o => o.Class >= 0).All(o => o.Class == o.InputRow / 40));
    }

    [TestMethod]
    public void PermutingTheClassNamesPermutesTheScores()
    {
        // Text labels: class order is the ordinal order of the names, so renaming 0, 1, 2 to "c", "a", "b" reorders the slots.
        var ml = new MLContext(1);
        var small = WadTrainerTests.Small;
        string[] names = ["c", "a", "b"];
        var numeric = Fit(ml, small.Train);
        var text = ml.SemiSupervised().Trainers.LabelSpreading().Fit(ml.Data.LoadFromEnumerable(small.Train
            .Select(r => new TextRow { Label = float.IsNaN(r.Label) ? "" : names[(int)r.Label], Features = r.Features }).ToList()));
        CollectionAssert.AreEqual(new[] { "a", "b", "c" }, text.Model.ClassNames.ToArray());
        var a = ml.Data.CreateEnumerable<Prediction>(numeric.Transform(ml.Data.LoadFromEnumerable(small.Test)), reuseRowObject: false).ToList();
        var b = ml.Data.CreateEnumerable<Prediction>(text.Transform(ml.Data.LoadFromEnumerable(small.Test
            .Select(r => new TextRow { Label = names[(int)r.Label], Features = r.Features }).ToList())), reuseRowObject: false).ToList();
        int[] slot = [2, 0, 1];   // class k of the numeric model is slot slot[k] of the text model
        for (var i = 0; i < a.Count; i++)
        {
            for (var k = 0; k < 3; k++) Assert.AreEqual(a[i].Score[k], b[i].Score[slot[k]], 1e-6, $"row {i} class {k}");
            Assert.AreEqual(a[i].KnownClassConfidence, b[i].KnownClassConfidence, 1e-6);
        }
    }

    private sealed class TextRow
    {
        public string Label { get; set; } = "";

        [VectorType(MismatchMixture.Dimension)]
        public float[] Features { get; set; } = [];
    }

    [TestMethod]
    public void FitsAreDeterministicAndDoNotDependOnRowOrder()
    {
        var ml = new MLContext(1);
        var small = WadTrainerTests.Small;
        var shuffled = small.Train.ToArray();
        new Random(4).Shuffle(shuffled);
        float[] Scores(ITransformer model) => ml.Data.CreateEnumerable<Prediction>(model.Transform(ml.Data.LoadFromEnumerable(small.Test)), reuseRowObject: false)
            .SelectMany(p => p.Score).ToArray();
        var first = Fit(ml, small.Train);
        CollectionAssert.AreEqual(Scores(first), Scores(Fit(new MLContext(7), small.Train)));
        CollectionAssert.AreEqual(Scores(first), Scores(Fit(ml, shuffled)));
        var byRow = first.Model.UnlabeledRows.ToDictionary(o => small.Train[o.InputRow], o => (o.Class, o.Confidence));
        foreach (var o in Fit(ml, shuffled).Model.UnlabeledRows) Assert.AreEqual(byRow[shuffled[o.InputRow]], (o.Class, o.Confidence));
    }

    [TestMethod]
    public void ARowWithANaNFeatureIsPredictedAsMissingAndUnknownThresholdMarksLowConfidenceRows()
    {
        var ml = new MLContext(1);
        var small = WadTrainerTests.Small;
        var test = small.Test.Take(30).Select(r => new MismatchMixture.Row { Label = r.Label, Features = (float[])r.Features.Clone() }).ToList();
        test[0].Features[3] = float.NaN;
        // A far-away row: its neighbours are the rows nearest to it, so it still gets a class; its confidence is what it is.
        var plain = Fit(ml, small.Train);
        var predictions = ml.Data.CreateEnumerable<Prediction>(plain.Transform(ml.Data.LoadFromEnumerable(test)), reuseRowObject: false).ToList();
        Assert.AreEqual(0u, predictions[0].PredictedLabel, "a NaN feature gives the missing key");
        Assert.IsTrue(float.IsNaN(predictions[0].KnownClassConfidence) && predictions[0].Score.All(float.IsNaN));
        Assert.IsTrue(predictions.Skip(1).All(p => p.PredictedLabel > 0));

        var confidences = predictions.Skip(1).Select(p => p.KnownClassConfidence).Order().ToArray();
        var threshold = confidences[confidences.Length / 2];
        var gated = Fit(ml, small.Train, o => o.UnknownThreshold = threshold);
        var gatedPredictions = ml.Data.CreateEnumerable<Prediction>(gated.Transform(ml.Data.LoadFromEnumerable(test)), reuseRowObject: false).ToList();
        for (var i = 1; i < test.Count; i++)
        {
            var expected = predictions[i].KnownClassConfidence < threshold ? 0u : predictions[i].PredictedLabel;
            Assert.AreEqual(expected, gatedPredictions[i].PredictedLabel, $"row {i}, confidence {predictions[i].KnownClassConfidence}");
            CollectionAssert.AreEqual(predictions[i].Score, gatedPredictions[i].Score);
        }
        var evaluation = ml.SemiSupervised().Evaluate(gated.Transform(ml.Data.LoadFromEnumerable(test)));
        Assert.AreEqual(gatedPredictions.Count(p => p.PredictedLabel == 0), evaluation.UnpredictedRows, "the evaluator counts the unknown predictions");
    }
}
