using Microsoft.ML.PaperExtensions.Survival;

namespace Microsoft.ML.PaperExtensions.Tests.Survival;

/// <summary>The identities and limits of the APGW spec (section 8).</summary>
[TestClass]
public sealed class ApgwDistributionTests
{
    [TestMethod]
    [DataRow(-0.5)]
    [DataRow(0.0)]
    [DataRow(0.3)]
    [DataRow(1.0)]
    [DataRow(4.0)]
    public void HazardIdentitiesHold(double kappa)
    {
        var d = new ApgwDistribution(phi: 0.8, lambda: 1.3, gamma: 1.4, kappa: kappa);
        foreach (var t in new[] { 0.05, 0.3, 1, 2.5 })
        {
            Assert.AreEqual(d.Density(t) / d.Survival(t), d.Hazard(t), 1e-12 * d.Hazard(t), "h = f / S");
            Assert.AreEqual(-Math.Log(d.Survival(t)), d.CumulativeHazard(t), 1e-12, "H = -log S");
            const double h = 1e-6;
            Assert.AreEqual((d.CumulativeHazard(t + h) - d.CumulativeHazard(t - h)) / (2 * h), d.Hazard(t), 1e-6 * (1 + d.Hazard(t)), "h = dH/dt");
        }
        // H(t2) - H(t1) equals the integral of h (Simpson's rule, 2000 panels).
        double a = 0.2, b = 3, sum = 0;
        const int panels = 2000;
        for (var i = 0; i <= panels; i++)
        {
            var w = i == 0 || i == panels ? 1 : i % 2 == 1 ? 4 : 2;
            sum += w * d.Hazard(a + (b - a) * i / panels);
        }
        Assert.AreEqual(d.CumulativeHazard(b) - d.CumulativeHazard(a), sum * (b - a) / panels / 3, 1e-9);
    }

    [TestMethod]
    public void LimitsOfTheBaselineCumulativeHazard()
    {
        foreach (var z in new[] { 1e-8, 0.01, 0.7, 5 })
        {
            Assert.AreEqual(Math.Log(1 + z), ApgwDistribution.H0(z, 1e-9), 1e-8 * (1 + z), "kappa -> 0 is log(1 + z)");
            Assert.AreEqual(Math.Log(1 + z), ApgwDistribution.H0(z, -1e-9), 1e-8 * (1 + z));
            Assert.AreEqual(Math.Log(1 + z), ApgwDistribution.H0(z, 0), 1e-15 * (1 + z));
            Assert.AreEqual(z, ApgwDistribution.H0(z, 1), 1e-14 * (1 + z), "kappa = 1 is the Weibull");
            Assert.AreEqual(Math.Exp(z) - 1, ApgwDistribution.H0(z, 1e7), 1e-5 * Math.Exp(z), "kappa -> infinity is Gompertz");
        }
    }

    [TestMethod]
    public void QuantileInvertsTheSurvivalFunctionAndTheCureFractionCapsIt()
    {
        foreach (var kappa in new[] { -0.5, 0, 0.3, 1, 4, double.PositiveInfinity })
        {
            var d = new ApgwDistribution(0.8, 0.6, double.IsPositiveInfinity(kappa) ? 1 : 1.4, kappa);
            foreach (var p in new[] { 0.01, 0.1, 0.3 })
            {
                Assert.AreEqual(1 - p, d.Survival(d.Quantile(p)), 1e-10, $"kappa {kappa}, p {p}");
            }
        }
        var cure = new ApgwDistribution(0.8, 0.6, 1.4, -0.5);
        Assert.AreEqual(Math.Exp(-0.6), cure.CureFraction, 1e-15);
        Assert.AreEqual(cure.CureFraction, cure.Survival(1e30), 1e-12, "S(t) -> cure fraction (the gap falls like t^(gamma kappa))");
        Assert.AreEqual(double.PositiveInfinity, cure.Quantile(1 - cure.CureFraction + 1e-9));
        Assert.AreEqual(0.0, new ApgwDistribution(1, 1, 1, 0.5).CureFraction);
    }

    [TestMethod]
    public void SpecialCasesHaveTheirClosedForms()
    {
        var weibull = new ApgwDistribution(phi: 0.5, lambda: 2, gamma: 1.5, kappa: 1);
        Assert.AreEqual(2 * Math.Pow(0.5 * 3, 1.5), weibull.CumulativeHazard(3), 1e-12);
        var burr = new ApgwDistribution(phi: 0.5, lambda: 2, gamma: 1.5, kappa: 0);
        Assert.AreEqual(Math.Pow(1 + Math.Pow(0.5 * 3, 1.5), -2), burr.Survival(3), 1e-12);
        var gompertz = new ApgwDistribution(phi: 0.5, lambda: 2, gamma: 1, kappa: double.PositiveInfinity);
        Assert.AreEqual(2 * 0.5 * Math.Exp(0.5 * 3), gompertz.Hazard(3), 1e-12);
    }

    [TestMethod]
    public void HazardShapeFollowsTheLogSlopeLimits()
    {
        Assert.AreEqual(HazardShape.Constant, new ApgwDistribution(1, 1, 1, 1).Shape);
        Assert.AreEqual(HazardShape.Increasing, new ApgwDistribution(1, 1, 2, 1).Shape);
        Assert.AreEqual(HazardShape.Decreasing, new ApgwDistribution(1, 1, 0.5, 1).Shape);
        Assert.AreEqual(HazardShape.Unimodal, new ApgwDistribution(1, 1, 2, 0.2).Shape);
        Assert.AreEqual(HazardShape.Bathtub, new ApgwDistribution(1, 1, 0.5, 4).Shape);
        Assert.AreEqual(HazardShape.Unimodal, new ApgwDistribution(1, 1, 2, -0.5).Shape, "a cure fit with gamma > 1");
    }

    [TestMethod]
    public void InvalidParametersAreRejectedByName()
    {
        StringAssert.Contains(Assert.Throws<ArgumentOutOfRangeException>(() => new ApgwDistribution(0, 1, 1, 1)).Message, "phi");
        StringAssert.Contains(Assert.Throws<ArgumentOutOfRangeException>(() => new ApgwDistribution(1, 1, 1, -1)).Message, "kappa");
    }
}
