using Microsoft.ML.PaperExtensions.TestSupport;

namespace Microsoft.ML.PaperExtensions.Tests.Ordinal;

/// <summary>The paper's simulation 4.1 (sparse differences, n = 2500, p = 10, K = 4) with a few replicates.</summary>
[TestClass]
public sealed class PrestoSimulationTests
{
    [TestMethod]
    [TestCategory("Slow")]
    public void PrestoBeatsProportionalOddsAndSeparateLogitOnTheRareClassInTheMedian()
    {
        var results = Enumerable.Range(0, 9).Select(r => Simulation.Run(Design.SparseMiddle, 500 + r)).ToList();
        var versusLogit = Simulation.Median(results.Select(r => r.Presto / r.Logit));
        var versusPo = Simulation.Median(results.Select(r => r.Presto / r.ProportionalOdds));
        Assert.IsLessThan(1.0, versusLogit, $"median MSE ratio PRESTO / logit (paper: about 0.56)");
        Assert.IsLessThan(1.0, versusPo, $"median MSE ratio PRESTO / PO (paper: about 0.77)");
        Assert.IsTrue(results.All(r => r.RareFrequency is > 0.001 and < 0.03), "the design's rare class is rare");
    }
}
