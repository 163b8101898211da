using Microsoft.ML.PaperExtensions.Ordinal;
using Microsoft.ML.PaperExtensions.SemiSupervised;
using Microsoft.ML.PaperExtensions.Survival;
using Microsoft.ML.PaperExtensions.Tests.Ordinal;
using Microsoft.ML.PaperExtensions.Tests.SemiSupervised;
using Microsoft.ML.PaperExtensions.Tests.Survival;

namespace Microsoft.ML.PaperExtensions.Tests.Onnx;

/// <summary>A model saved in a zip and loaded years later (as ML.NET's own transformers) still shows its learned parameters.</summary>
[TestClass]
public sealed class ModelDetailsTests
{
    private static ITransformer SaveAndLoad(MLContext ml, ITransformer model, IDataView data)
    {
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        return new MLContext(seed: 99).Model.Load(stream, out _);
    }

    [TestMethod]
    public void AnOrdinalModelComesBackFromALoadedPipeline()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(PrestoPropertyTests.Simulate(200, 3));
        var pipeline = ml.Transforms.NormalizeMinMax("Features").Append(ml.Ordinal().Trainers.Presto(new PrestoTrainer.Options { Lambda = 0.02 }));
        var fitted = pipeline.Fit(data);
        var original = fitted.LastTransformer.Model;
        var loaded = OrdinalModel.FromLoaded(SaveAndLoad(ml, fitted, data));
        CollectionAssert.AreEqual(original.ClassNames.ToArray(), loaded.ClassNames.ToArray());
        CollectionAssert.AreEqual(original.Intercepts.ToArray(), loaded.Intercepts.ToArray());
        for (var k = 0; k < original.Weights.Count; k++) CollectionAssert.AreEqual(original.Weights[k].ToArray(), loaded.Weights[k].ToArray());
        Assert.AreEqual(original.Lambda, loaded.Lambda);
        Assert.AreEqual(original.LogLikelihood, loaded.LogLikelihood);
        Assert.AreEqual(original.CrossingRepair, loaded.CrossingRepair);
    }

    [TestMethod]
    public void ASurvivalModelComesBackWithItsSummary()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(VeteranData.Load());
        var trainer = ml.Survival().Trainers.FlexibleParametric(new FlexibleSurvivalTrainer.Options { TimeColumnName = "Time", EventColumnName = "Status", PhFeatureColumnNames = ["Trt2", "Karno"], Kappa = 1 });
        using var fitted = trainer.Fit(data);
        var loaded = FlexibleSurvivalModel.FromLoaded(SaveAndLoad(ml, fitted, data));
        Assert.AreEqual(fitted.Model.Summary(), loaded.Summary(), "coefficients, standard errors, fit statistics and notes");
        CollectionAssert.AreEqual(fitted.Model.Covariance().Cast<double>().ToArray(), loaded.Covariance().Cast<double>().ToArray());
        Assert.AreEqual(fitted.Model.Distribution([], [1, 60], []).Survival(100), loaded.Distribution([], [1, 60], []).Survival(100));
    }

    [TestMethod]
    public void ASemiSupervisedModelComesBackWithItsClassesAndRoundsAndOtherTransformersAreRefused()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(WadTrainerTests.Small.Train);
        using var fitted = ml.SemiSupervised().Trainers.Wad(new WadTrainer.Options { Seed = 1, TeacherEpochs = 2, StudentIterationsPerRound = 20, Split = 1 }).Fit(data);
        var loaded = SemiSupervisedModel.FromLoaded(SaveAndLoad(ml, fitted, data));
        CollectionAssert.AreEqual(fitted.Model.ClassNames.ToArray(), loaded.ClassNames.ToArray());
        Assert.AreEqual(fitted.Model.Rounds.Count, loaded.Rounds.Count);
        Assert.AreEqual(fitted.Model.Rounds[0], loaded.Rounds[0]);
        Assert.AreEqual(fitted.Model.MeanUnlabeledWeight, loaded.MeanUnlabeledWeight);
        Assert.AreEqual(fitted.Model.UnlabeledRowCount, loaded.UnlabeledRowCount);
        Assert.AreEqual(fitted.Model.HasTeacher, loaded.HasTeacher);
        Assert.AreEqual(fitted.Model.AnchorCount, loaded.AnchorCount);

        var other = ml.Transforms.NormalizeMinMax("Features").Fit(data);
        StringAssert.Contains(Assert.Throws<ArgumentException>(() => SemiSupervisedModel.FromLoaded(other)).Message, "holds no SemiSupervisedModel");
    }
}
