using Microsoft.ML.PaperExtensions.Survival;

namespace Microsoft.ML.PaperExtensions.Tests.Survival;

[TestClass]
public sealed class FlexibleSurvivalBadInputTests
{
    private sealed class Row
    {
        public float Time { get; set; }

        public float Event { get; set; }

        public float X { get; set; }

        public float Entry { get; set; }
    }

    private static Row[] Rows() => Enumerable.Range(1, 40).Select(i => new Row { Time = i, Event = i % 3 == 0 ? 0 : 1, X = i % 7, Entry = 0 }).ToArray();

    private static Exception Fit(IEnumerable<Row> rows, Action<FlexibleSurvivalTrainer.Options>? change = null)
    {
        var ml = new MLContext(seed: 1);
        var options = new FlexibleSurvivalTrainer.Options { PhFeatureColumnNames = ["X"] };
        change?.Invoke(options);
        return Assert.Throws<Exception>(() => ml.Survival().Trainers.FlexibleParametric(options).Fit(ml.Data.LoadFromEnumerable(rows)));
    }

    [TestMethod]
    public void NonPositiveTimesAreReportedWithTheRowCount()
    {
        var rows = Rows();
        rows[4].Time = 0;
        rows[9].Time = -2;
        StringAssert.Contains(Fit(rows).Message, "Time column 'Time' has non-positive times in 2 of 40 rows (first at row 4: 0)");
    }

    [TestMethod]
    public void EventValuesOtherThanZeroOrOneNeedEventValue()
    {
        var rows = Rows();
        rows[2].Event = 2;
        StringAssert.Contains(Fit(rows).Message, "Event column 'Event' has values other than 0 and 1 in 1 of 40 rows (first: 2 at row 2)");
        var coded = Rows().Select(r => new Row { Time = r.Time, Event = r.Event == 1 ? 2 : 1, X = r.X }).ToArray();
        var ml = new MLContext(seed: 1);
        using var model = ml.Survival().Trainers.FlexibleParametric(new FlexibleSurvivalTrainer.Options { PhFeatureColumnNames = ["X"], EventValue = 2, Kappa = 1 })
            .Fit(ml.Data.LoadFromEnumerable(coded));
        Assert.AreEqual(Rows().Count(r => r.Event == 1), model.Model.Events);
    }

    [TestMethod]
    public void NoEventsEntryAfterTimeAndConstantCovariatesAreReported()
    {
        StringAssert.Contains(Fit(Rows().Select(r => new Row { Time = r.Time, Event = 0, X = r.X })).Message, "has no events in 40 rows");
        var late = Rows();
        late[5].Entry = 100;
        StringAssert.Contains(Fit(late, o => o.EntryTimeColumnName = "Entry").Message, "Entry time column 'Entry' is negative or not below the time in 1 of 40 rows (first at row 5");
        StringAssert.Contains(Fit(Rows().Select(r => new Row { Time = r.Time, Event = r.Event, X = 3 })).Message, "The PH feature 'X' is constant");
        StringAssert.Contains(Fit(Rows(), o => o.PhFeatureColumnNames = ["Nope"]).Message, "PH feature column 'Nope' was not found");
    }

    [TestMethod]
    public void ContradictoryOptionsAreRejectedByName()
    {
        var ml = new MLContext(seed: 1);
        StringAssert.Contains(Assert.Throws<ArgumentOutOfRangeException>(() => ml.Survival().Trainers.FlexibleParametric(new FlexibleSurvivalTrainer.Options { Kappa = -2 })).Message, "Kappa must be");
        StringAssert.Contains(Assert.Throws<ArgumentException>(() => ml.Survival().Trainers.FlexibleParametric(new FlexibleSurvivalTrainer.Options { Kappa = 1, GompertzLimit = true })).Message, "exclude each other");
        StringAssert.Contains(Assert.Throws<ArgumentException>(() => ml.Survival().Trainers.FlexibleParametric(new FlexibleSurvivalTrainer.Options { FixLambdaAtOne = true, PhFeatureColumnNames = ["X"] })).Message, "PhFeatureColumnNames must be empty");
        StringAssert.Contains(Assert.Throws<ArgumentOutOfRangeException>(() => ml.Survival().Trainers.FlexibleParametric(new FlexibleSurvivalTrainer.Options { Quantiles = [1.5] })).Message, "Quantiles must lie in (0, 1)");
    }

    [TestMethod]
    public void NonConvergenceIsFlaggedWithTheReason()
    {
        var ml = new MLContext(seed: 1);
        var options = new FlexibleSurvivalTrainer.Options { PhFeatureColumnNames = ["X"], Kappa = 0.5, MaximumNumberOfIterations = 1 };
        using var model = ml.Survival().Trainers.FlexibleParametric(options).Fit(ml.Data.LoadFromEnumerable(Rows()));
        Assert.IsFalse(model.Model.Converged);
        Assert.IsTrue(model.Model.Notes.Any(n => n.StartsWith("Not converged: the last fit stopped after 1 Newton iterations")), string.Join("\n", model.Model.Notes));
    }
}
