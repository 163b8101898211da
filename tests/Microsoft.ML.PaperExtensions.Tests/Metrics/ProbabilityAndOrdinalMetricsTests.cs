using Microsoft.ML.PaperExtensions.Metrics;

namespace Microsoft.ML.PaperExtensions.Tests.Metrics;

/// <summary>Each expected value is worked by hand in the comment beside it.</summary>
[TestClass]
public sealed class ProbabilityAndOrdinalMetricsTests
{
    // Two rows, K = 3: p1 = (0.7, 0.2, 0.1) with class 0, p2 = (0.2, 0.3, 0.5) with class 2.
    private static readonly double[] Probabilities = [0.7, 0.2, 0.1, 0.2, 0.3, 0.5];
    private static readonly int[] Labels = [0, 2];

    [TestMethod]
    public void MultiClassBrierScore()
    {
        // row 1: 0.3^2 + 0.2^2 + 0.1^2 = 0.14; row 2: 0.2^2 + 0.3^2 + 0.5^2 = 0.38; mean 0.26.
        Assert.AreEqual(0.26, ProbabilityMetrics.BrierScore(Probabilities, Labels, 3), 1e-12);
    }

    [TestMethod]
    public void RankedProbabilityScore()
    {
        // row 1: F = (0.7, 0.9), O = (1, 1): 0.09 + 0.01 = 0.10; row 2: F = (0.2, 0.5), O = (0, 0): 0.04 + 0.25 = 0.29;
        // (0.10 + 0.29) / (2 rows * (K - 1) = 2) = 0.0975.
        Assert.AreEqual(0.0975, OrdinalMetrics.RankedProbabilityScore(Probabilities, Labels, 3), 1e-12);
    }

    [TestMethod]
    public void LogLoss()
    {
        // -(ln 0.7 + ln 0.5) / 2
        Assert.AreEqual(-(Math.Log(0.7) + Math.Log(0.5)) / 2, ProbabilityMetrics.LogLoss(Probabilities, Labels, 3), 1e-12);
    }

    [TestMethod]
    public void MeanAbsoluteError()
    {
        // |0 - 0| + |1 - 2| over 2 rows.
        Assert.AreEqual(0.5, OrdinalMetrics.MeanAbsoluteError([0, 1], [0, 2]));
    }

    [TestMethod]
    public void QuadraticWeightedKappa()
    {
        // labels (0, 1, 2, 2), predicted (0, 2, 2, 1). Weighted disagreement: cells (1,2) and (2,1), weight 1 each: 2.
        // Margins: labels (1, 1, 2), predictions (1, 1, 2), n = 4; expected weighted disagreement
        // sum_ab (a-b)^2 r_a c_b / n = (0.25 + 2) + (0.25 + 0.5) + (2 + 0.5) = 5.5. Kappa = 1 - 2 / 5.5.
        Assert.AreEqual(1 - 2 / 5.5, OrdinalMetrics.QuadraticWeightedKappa([0, 2, 2, 1], [0, 1, 2, 2], 3), 1e-12);
        Assert.AreEqual(1.0, OrdinalMetrics.QuadraticWeightedKappa([0, 1, 2], [0, 1, 2], 3), "perfect agreement");
    }

    [TestMethod]
    public void QuadraticWeightedKappaIsUndefinedWhenEverythingIsOneClass()
    {
        var error = Assert.Throws<ArgumentException>(() => OrdinalMetrics.QuadraticWeightedKappa([1, 1], [1, 1], 3));
        StringAssert.Contains(error.Message, "undefined");
    }

    [TestMethod]
    public void BinaryBrierScore()
    {
        // (0.1-1)^2 + 0.4^2 + 0.35^2 + (0.8-1)^2 = 0.81 + 0.16 + 0.1225 + 0.04 = 1.1325, over 4.
        Assert.AreEqual(1.1325 / 4, ProbabilityMetrics.BrierScore([0.1, 0.4, 0.35, 0.8], [true, false, false, true]), 1e-12);
    }

    [TestMethod]
    public void EqualFrequencyCalibrationError()
    {
        // Sorted: 0.1 (yes), 0.35 (no) | 0.4 (no), 0.8 (yes); both bins observe 0.5.
        // (0.4^2 + 0.15^2 + 0.1^2 + 0.3^2) / 4 = (0.16 + 0.0225 + 0.01 + 0.09) / 4 = 0.070625.
        Assert.AreEqual(0.070625, ProbabilityMetrics.CalibrationError([0.1, 0.4, 0.35, 0.8], [true, false, false, true], binCount: 2), 1e-12);
    }

    [TestMethod]
    public void CalibrationErrorUsesTheMaximumOfTenAndNOver100BinsByDefault()
    {
        // n = 1500: round(15) = 15 bins of 100 rows. Each bin of predictions constant at its observed rate: error 0.
        var p = new double[1500];
        var y = new bool[1500];
        for (var b = 0; b < 15; b++)
        {
            for (var k = 0; k < 100; k++)
            {
                p[b * 100 + k] = b / 15.0;
                y[b * 100 + k] = k < (int)Math.Round(100 * b / 15.0) ;
            }
        }
        var exact = Enumerable.Range(0, 15).Select(b => Math.Pow(b / 15.0 - Math.Round(100 * b / 15.0) / 100, 2)).Sum() * 100 / 1500;
        Assert.AreEqual(exact, ProbabilityMetrics.CalibrationError(p, y), 1e-12);
        Assert.AreNotEqual(exact, ProbabilityMetrics.CalibrationError(p, y, binCount: 10), "10 bins mix the groups");
    }

    [TestMethod]
    public void ProbabilitiesOutsideTheUnitIntervalAreRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => ProbabilityMetrics.BrierScore([0.5, 1.5], [true, false]));
        StringAssert.Contains(error.Message, "1.5 at index 1");
        var label = Assert.Throws<ArgumentException>(() => ProbabilityMetrics.BrierScore(Probabilities, [0, 3], 3));
        StringAssert.Contains(label.Message, "class 3 at index 1");
    }
}
