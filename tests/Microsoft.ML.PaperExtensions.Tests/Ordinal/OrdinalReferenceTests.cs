using Microsoft.ML.PaperExtensions.Ordinal;

namespace Microsoft.ML.PaperExtensions.Tests.Ordinal;

/// <summary>The two limits of PRESTO against R (VGAM::vglm, ordinal::clm, MASS::polr), numbers stored by Data/reference/ordinal.R.</summary>
[TestClass]
public sealed class OrdinalReferenceTests
{
    [TestMethod]
    public void LambdaZeroIsTheNonParallelCumulativeLogitOfVgam()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(SoupData.FourIndicators());
        using var model = ml.Ordinal().Trainers.Presto(lambda: 0).Fit(data);

        Assert.AreEqual(SoupData.Reference("nonparallel", "logLik"), model.Model.LogLikelihood, 1e-6);
        for (var b = 0; b < 5; b++)
        {
            Assert.AreEqual(SoupData.Reference("nonparallel", $"alpha{b + 1}"), model.Model.Intercepts[b], 1e-5, $"alpha{b + 1}");
            for (var j = 0; j < 4; j++)
            {
                Assert.AreEqual(SoupData.Reference("nonparallel", $"beta{b + 1}_{SoupData.FeatureNames[j]}"), model.Model.Weights[b][j], 1e-5, $"beta{b + 1} {SoupData.FeatureNames[j]}");
            }
        }
        Assert.IsTrue(model.Model.Converged);
    }

    [TestMethod]
    public void ProportionalOddsIsClmAndPolrWithTheSignOfBetaFlipped()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(SoupData.FourIndicators());
        using var model = ml.Ordinal().Trainers.ProportionalOdds().Fit(data);

        Assert.AreEqual(SoupData.Reference("po_clm", "logLik"), model.Model.LogLikelihood, 1e-6);
        Assert.AreEqual(SoupData.Reference("po_polr", "logLik"), model.Model.LogLikelihood, 1e-6);
        for (var b = 0; b < 5; b++)
        {
            Assert.AreEqual(SoupData.Reference("po_clm", $"alpha{b + 1}"), model.Model.Intercepts[b], 1e-5, $"alpha{b + 1}");
            for (var j = 0; j < 4; j++)
            {
                Assert.AreEqual(SoupData.Reference("po_clm", $"beta_{SoupData.FeatureNames[j]}"), model.Model.Weights[b][j], 1e-5, $"beta{b + 1} {SoupData.FeatureNames[j]}");
            }
        }
    }

    [TestMethod]
    public void LargeLambdaWithTheFirstVectorFreeIsProportionalOdds()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(SoupData.FourIndicators());
        using var presto = ml.Ordinal().Trainers.Presto(new PrestoTrainer.Options { Lambda = 10, PenalizeFirstVector = false }).Fit(data);

        Assert.AreEqual(SoupData.Reference("po_clm", "logLik"), presto.Model.LogLikelihood, 1e-6);
        for (var j = 0; j < 4; j++)
        {
            for (var b = 0; b < 5; b++)
            {
                Assert.AreEqual(SoupData.Reference("po_clm", $"beta_{SoupData.FeatureNames[j]}"), presto.Model.Weights[b][j], 1e-5);
            }
        }
    }
}
