using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;
using Microsoft.ML.PaperExtensions.Tests.Onnx;
using Microsoft.ML.PaperExtensions.Tests.TestDoubles;

namespace Microsoft.ML.PaperExtensions.Tests.Conformance;

/// <summary>The conformance kit passes on ML.NET's own estimators and on the ONNX-backed base, and fails on a broken estimator.</summary>
[TestClass]
public sealed class EstimatorConformanceTests
{
    private sealed class RegressionPrediction
    {
        public float Score { get; set; }
    }

    private sealed class LabelledPrediction
    {
        public float Score { get; set; }

        public uint PredictedLabel { get; set; }
    }

    private sealed class NormalizedRow
    {
        [VectorType(3)]
        public float[] Features { get; set; } = [];
    }

    private sealed class OnlyLabel
    {
        public float Label { get; set; }

        public double Extra { get; set; }
    }

    private sealed class TextFeatures
    {
        public string Features { get; set; } = "";

        public double Extra { get; set; }

        public float Label { get; set; }
    }

    private static readonly OnnxBackedTransformerTests.Row[] Rows = OnnxBackedTransformerTests.MakeRows(120, 21);

    [TestMethod]
    public void BuiltInTransformPassesTheKit()
    {
        var ml = new MLContext(seed: 1);
        var noFeatures = ml.Data.LoadFromEnumerable(new[] { new OnlyLabel() });
        EstimatorConformance.Check<OnnxBackedTransformerTests.Row, NormalizedRow>(ml, ml.Transforms.NormalizeMinMax("Features"), Rows, [new InvalidInput(noFeatures, "Features")]);
    }

    [TestMethod]
    public void BuiltInTrainerPassesTheKitIncludingCrossValidation()
    {
        var ml = new MLContext(seed: 1);
        var noFeatures = ml.Data.LoadFromEnumerable(new[] { new OnlyLabel() });
        var trainer = ml.Regression.Trainers.Sdca(labelColumnName: "Label", featureColumnName: "Features", maximumNumberOfIterations: 20);
        EstimatorConformance.Check<OnnxBackedTransformerTests.Row, RegressionPrediction>(ml, trainer, Rows, [new InvalidInput(noFeatures, "Features")],
            (context, data) => context.Regression.CrossValidate(data, trainer, numberOfFolds: 3).Select(f => f.Metrics.RootMeanSquaredError).ToList());
    }

    [TestMethod]
    public void OnnxBackedEstimatorPassesTheKitIncludingCrossValidation()
    {
        var ml = new MLContext(seed: 1);
        var estimator = new LeastSquaresEstimator(ml, "Label", "Features", "Extra");
        var noFeatures = ml.Data.LoadFromEnumerable(new[] { new OnlyLabel() });
        var textFeatures = ml.Data.LoadFromEnumerable(new[] { new TextFeatures() });
        var model = EstimatorConformance.Check<OnnxBackedTransformerTests.Row, LabelledPrediction>(ml, estimator, Rows,
            [new InvalidInput(noFeatures, "Features"), new InvalidInput(textFeatures, "Features")],
            (context, data) => context.Regression.CrossValidate(data, estimator, numberOfFolds: 3).Select(f => f.Metrics.RSquared).ToList());
        Assert.IsInstanceOfType<LeastSquaresTransformer>(model);
    }

    [TestMethod]
    public void KitFailsWhenGetOutputSchemaDisagreesWithTheFittedSchema()
    {
        var ml = new MLContext(seed: 1);
        var lying = new MisdeclaredEstimator(ml.Transforms.NormalizeMinMax("Features"));
        Assert.Throws<AssertFailedException>(() =>
            EstimatorConformance.Check<OnnxBackedTransformerTests.Row, NormalizedRow>(ml, lying, Rows, []));
    }

    [TestMethod]
    public void KitFailsWhenInvalidInputIsAccepted()
    {
        var ml = new MLContext(seed: 1);
        // Valid data declared invalid: the estimator accepts it, so the kit must fail.
        var accepted = ml.Data.LoadFromEnumerable(Rows);
        Assert.Throws<AssertFailedException>(() =>
            EstimatorConformance.Check<OnnxBackedTransformerTests.Row, NormalizedRow>(ml, ml.Transforms.NormalizeMinMax("Features"), Rows, [new InvalidInput(accepted, "Features")]));
    }

    /// <summary>Declares a Score column that its transformer never produces.</summary>
    private sealed class MisdeclaredEstimator(IEstimator<ITransformer> inner) : IEstimator<ITransformer>
    {
        public ITransformer Fit(IDataView input) => inner.Fit(input);

        public SchemaShape GetOutputSchema(SchemaShape inputSchema) =>
            SchemaShapes.With(inner.GetOutputSchema(inputSchema), SchemaShapes.Scalar("Score", NumberDataViewType.Single));
    }
}
