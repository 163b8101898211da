using Microsoft.ML.PaperExtensions.Survival;

namespace Microsoft.ML.PaperExtensions.Tests.Survival;

/// <summary>The Weibull and log-logistic special cases against R survival::survreg (Data/reference/survival.R).</summary>
[TestClass]
public sealed class FlexibleSurvivalReferenceTests
{
    private static FlexibleSurvivalTrainer.Options Options() => new()
    {
        TimeColumnName = nameof(VeteranData.Row.Time),
        EventColumnName = nameof(VeteranData.Row.Status),
    };

    private static double Estimate(FlexibleSurvivalModel model, string parameter, string term) =>
        model.Coefficients.Single(c => c.Parameter == parameter && c.Term == term).Estimate;

    [TestMethod]
    public void KappaOneIsSurvregWeibull()
    {
        var ml = new MLContext(seed: 1);
        var options = Options();
        options.Kappa = 1;
        options.PhFeatureColumnNames = ["Trt2", "Karno"];
        using var fit = ml.Survival().Trainers.FlexibleParametric(options).Fit(ml.Data.LoadFromEnumerable(VeteranData.Load()));
        var m = fit.Model;

        Assert.AreEqual(VeteranData.Reference("weibull", "logLik"), m.LogLikelihood, 1e-6);
        Assert.AreEqual(VeteranData.Reference("weibull", "beta0"), Estimate(m, "lambda", "(Intercept)"), 1e-5);
        Assert.AreEqual(VeteranData.Reference("weibull", "beta_trt2"), Estimate(m, "lambda", "Trt2"), 1e-5);
        Assert.AreEqual(VeteranData.Reference("weibull", "beta_karno"), Estimate(m, "lambda", "Karno"), 1e-6);
        Assert.AreEqual(VeteranData.Reference("weibull", "gamma"), Math.Exp(Estimate(m, "gamma", "(Intercept)")), 1e-5);
        Assert.IsTrue(m.Coefficients.Single(c => c.Parameter == "phi").Fixed, "phi intercept fixed at kappa = 1");
        Assert.IsTrue(m.Notes.Any(n => n.Contains("only lambda * phi^gamma is identified")));
        Assert.IsTrue(m.Converged);
        // SE of beta_trt2 = SE(b) / scale up to the covariance of b and scale: check the magnitude only.
        var se = m.Coefficients.Single(c => c.Term == "Trt2").StandardError;
        Assert.AreEqual(VeteranData.Reference("weibull", "se_b_trt2") * VeteranData.Reference("weibull", "gamma"), se, 0.01);
    }

    [TestMethod]
    public void KappaZeroWithLambdaOneIsSurvregLogLogistic()
    {
        var ml = new MLContext(seed: 1);
        var options = Options();
        options.Kappa = 0;
        options.FixLambdaAtOne = true;
        options.AftFeatureColumnNames = ["Trt2", "Karno"];
        using var fit = ml.Survival().Trainers.FlexibleParametric(options).Fit(ml.Data.LoadFromEnumerable(VeteranData.Load()));
        var m = fit.Model;

        Assert.AreEqual(VeteranData.Reference("loglogistic", "logLik"), m.LogLikelihood, 1e-6);
        Assert.AreEqual(VeteranData.Reference("loglogistic", "tau0"), Estimate(m, "phi", "(Intercept)"), 1e-5);
        Assert.AreEqual(VeteranData.Reference("loglogistic", "tau_trt2"), Estimate(m, "phi", "Trt2"), 1e-5);
        Assert.AreEqual(VeteranData.Reference("loglogistic", "tau_karno"), Estimate(m, "phi", "Karno"), 1e-6);
        Assert.AreEqual(VeteranData.Reference("loglogistic", "gamma"), Math.Exp(Estimate(m, "gamma", "(Intercept)")), 1e-5);
    }

    [TestMethod]
    public void FreeKappaNestsTheWeibullAndBurrFits()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(VeteranData.Load());
        FlexibleSurvivalModel Fit(double? kappa)
        {
            var options = Options();
            options.Kappa = kappa;
            options.PhFeatureColumnNames = ["Trt2", "Karno"];
            using var fit = ml.Survival().Trainers.FlexibleParametric(options).Fit(data);
            return fit.Model;
        }
        var free = Fit(null);
        var weibull = Fit(1);
        var burr = Fit(0);
        Assert.IsGreaterThanOrEqualTo(weibull.LogLikelihood - 1e-6, free.LogLikelihood);
        Assert.IsGreaterThanOrEqualTo(burr.LogLikelihood - 1e-6, free.LogLikelihood);
        var test = FlexibleSurvivalModel.LikelihoodRatioTest(weibull, free);
        Assert.AreEqual(2, test.DegreesOfFreedom, "kappa and the phi intercept are free in the APGW fit");
        Assert.IsTrue(test.P is >= 0 and <= 1);
        Assert.IsTrue(free.Converged);
    }
}
