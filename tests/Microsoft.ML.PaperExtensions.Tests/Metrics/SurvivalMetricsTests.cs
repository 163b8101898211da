using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Metrics;

namespace Microsoft.ML.PaperExtensions.Tests.Metrics;

[TestClass]
public sealed class SurvivalMetricsTests
{
    private sealed record Reference(double Concordance, long Concordant, long Discordant, long Tied);

    /// <summary>Values from R's survival::concordance, stored by Data/reference/concordance.R.</summary>
    private static Dictionary<string, Reference> ReadReference() =>
        File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Data", "reference", "concordance.csv")).Skip(1)
            .Select(line => line.Split(','))
            .ToDictionary(f => f[0], f => new Reference(double.Parse(f[1], CultureInfo.InvariantCulture), long.Parse(f[2]), long.Parse(f[3]), long.Parse(f[4])));

    [TestMethod]
    public void HandComputedExampleWithCensoringAndTies()
    {
        // Comparable pairs (shorter time an event, or equal times with one censored), worked by hand:
        // concordant A-B A-C A-D A-E C-B, discordant C-E D-E, tied prediction C-D: (5 + 0.5) / 8.
        double[] time = [2, 3, 3, 5, 6];
        bool[] isEvent = [true, false, true, true, false];
        double[] prediction = [1, 3, 2, 2, 1.5];

        var result = SurvivalMetrics.ConcordanceIndex(time, isEvent, prediction);

        Assert.AreEqual(new ConcordanceResult(0.6875, 5, 2, 1, 8), result);
        var asRisk = SurvivalMetrics.ConcordanceIndex(time, isEvent, prediction.Select(p => -p).ToArray(), higherMeansLongerSurvival: false);
        Assert.AreEqual(result, asRisk, "a risk score is the negated prediction");
    }

    [TestMethod]
    public void EqualTimesThatAreBothEventsAreNotComparable()
    {
        var result = SurvivalMetrics.ConcordanceIndex([4, 4, 9], [true, true, false], [1, 2, 3]);
        Assert.AreEqual(2L, result.Comparable, "only the two events against the later censored row");
        Assert.AreEqual(1.0, result.ConcordanceIndex);
    }

    [TestMethod]
    [DataRow("veteran_karno", "veteran.csv", 2, 3, 4, 1.0)]
    [DataRow("veteran_age", "veteran.csv", 2, 3, 6, 1.0)]
    [DataRow("lung_age", "lung.csv", 1, 2, 3, 2.0)]
    public void MatchesRSurvivalConcordance(string reference, string file, int timeIndex, int statusIndex, int predictionIndex, double eventValue)
    {
        var expected = ReadReference()[reference];
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromTextFile(Path.Combine(AppContext.BaseDirectory, "Data", file),
            [new TextLoader.Column("Time", DataKind.Double, timeIndex), new TextLoader.Column("Status", DataKind.Double, statusIndex), new TextLoader.Column("Prediction", DataKind.Double, predictionIndex)],
            separatorChar: ',', hasHeader: true, allowQuoting: true);
        var time = data.GetColumn<double>("Time").ToArray();
        var isEvent = data.GetColumn<double>("Status").Select(s => s == eventValue).ToArray();
        var prediction = data.GetColumn<double>("Prediction").ToArray();

        var result = SurvivalMetrics.ConcordanceIndex(time, isEvent, prediction);

        Assert.AreEqual(expected.Concordance, result.ConcordanceIndex, 1e-12);
        Assert.AreEqual(expected.Concordant, result.Concordant);
        Assert.AreEqual(expected.Discordant, result.Discordant);
        Assert.AreEqual(expected.Tied, result.TiedPrediction);
    }

    [TestMethod]
    public void AgreesWithTheQuadraticDefinitionOnRandomData()
    {
        var random = new Random(3);
        for (var trial = 0; trial < 20; trial++)
        {
            var n = random.Next(2, 60);
            var time = Enumerable.Range(0, n).Select(_ => (double)random.Next(1, 15)).ToArray();
            var isEvent = Enumerable.Range(0, n).Select(_ => random.NextDouble() < 0.6).ToArray();
            var prediction = Enumerable.Range(0, n).Select(_ => (double)random.Next(0, 6)).ToArray();
            long c = 0, d = 0, t = 0;
            for (var i = 0; i < n; i++)
            {
                for (var j = 0; j < n; j++)
                {
                    if (!isEvent[i] || !(time[i] < time[j] || (time[i] == time[j] && !isEvent[j]))) continue;
                    if (prediction[i] < prediction[j]) c++;
                    else if (prediction[i] > prediction[j]) d++;
                    else t++;
                }
            }
            if (c + d + t == 0) continue;
            var result = SurvivalMetrics.ConcordanceIndex(time, isEvent, prediction);
            Assert.AreEqual((c, d, t), (result.Concordant, result.Discordant, result.TiedPrediction), $"trial {trial}");
        }
    }

    [TestMethod]
    public void BadInputIsRejectedWithTheArgumentName()
    {
        var lengths = Assert.Throws<ArgumentException>(() => SurvivalMetrics.ConcordanceIndex([1, 2], [true], [1, 2]));
        StringAssert.Contains(lengths.Message, "isEvent (1)");
        var nan = Assert.Throws<ArgumentException>(() => SurvivalMetrics.ConcordanceIndex([1, double.NaN], [true, true], [1, 2]));
        StringAssert.Contains(nan.Message, "'time'");
        var none = Assert.Throws<ArgumentException>(() => SurvivalMetrics.ConcordanceIndex([1, 2], [false, false], [1, 2]));
        StringAssert.Contains(none.Message, "No pair is comparable");
    }
}
