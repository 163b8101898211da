using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Survival;

namespace Microsoft.ML.PaperExtensions.Tests.Survival;

/// <summary>Likelihoods without an interior maximum, and other data a survival fit cannot use, must be impossible to miss.</summary>
[TestClass]
public sealed class SurvivalBoundaryTests
{
    private sealed class LungRow
    {
        public float Time { get; set; }
        public float Status { get; set; }
        public float Sex { get; set; }
    }

    private static LungRow[] Lung() => File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Data", "lung.csv")).Skip(1)
        .Select(l => l.Split(',')).Select(f => new LungRow
        {
            Time = float.Parse(f[1], CultureInfo.InvariantCulture),
            Status = float.Parse(f[2], CultureInfo.InvariantCulture),
            Sex = float.Parse(f[4], CultureInfo.InvariantCulture),
        }).ToArray();

    [TestMethod]
    public void LungWithSexOnTheScaleAndTheShapeReportsASupremumOnTheBoundary()
    {
        // An independent optimiser found the profile likelihood rising as gamma grows and kappa falls: -1146.383 at
        // gamma0 = e^3.5, kappa = 0.036, above the interior maximum at kappa 1.23 (-1146.906).
        var ml = new MLContext(seed: 1);
        var warnings = new List<string>();
        ml.Log += (_, e) => { if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning) warnings.Add(e.RawMessage); };
        var options = new FlexibleSurvivalTrainer.Options { TimeColumnName = "Time", EventColumnName = "Status", EventValue = 2, PhFeatureColumnNames = ["Sex"], ShapeFeatureColumnNames = ["Sex"] };
        using var model = ml.Survival().Trainers.FlexibleParametric(options).Fit(ml.Data.LoadFromEnumerable(Lung()));

        Assert.IsTrue(model.Model.AtBoundary, string.Join(" ", model.Model.Notes));
        StringAssert.Contains(model.Model.Boundary, "gamma grows and kappa falls towards 0");
        var note = model.Model.Notes.Single(n => n.Contains("no interior maximum", StringComparison.Ordinal));
        var higher = double.Parse(System.Text.RegularExpressions.Regex.Match(note, @", (-[0-9.]+) at gamma").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.IsGreaterThanOrEqualTo(-1146.40, higher, "the search reaches the region the independent optimiser found");
        Assert.IsGreaterThan(model.Model.LogLikelihood, higher);
        Assert.IsTrue(warnings.Any(w => w.Contains("no interior maximum", StringComparison.Ordinal)), "a warning on MLContext.Log");
    }

    [TestMethod]
    public void TiedTimesDuplicateColumnsAndNoCovariatesFailWithTheReason()
    {
        var ml = new MLContext(seed: 1);
        var tied = Lung().Select(r => new LungRow { Time = 100, Status = r.Status, Sex = r.Sex }).ToArray();
        var options = new FlexibleSurvivalTrainer.Options { TimeColumnName = "Time", EventColumnName = "Status", EventValue = 2, PhFeatureColumnNames = ["Sex"] };
        var error = Assert.Throws<ArgumentException>(() => ml.Survival().Trainers.FlexibleParametric(options).Fit(ml.Data.LoadFromEnumerable(tied)));
        StringAssert.Contains(error.Message, "Time column 'Time' has the same value (100) in every row");

        var twice = Assert.Throws<ArgumentException>(() => ml.Survival().Trainers.FlexibleParametric(new FlexibleSurvivalTrainer.Options { PhFeatureColumnNames = ["Sex", "Sex"] }));
        Assert.AreEqual(nameof(FlexibleSurvivalTrainer.Options.PhFeatureColumnNames), twice.ParamName);
        StringAssert.Contains(twice.Message, "names column 'Sex' twice");

        var none = Assert.Throws<ArgumentException>(() => ml.Survival().Trainers.FlexibleParametric("Time", "Status"));
        StringAssert.Contains(none.Message, "Name at least one covariate column");
    }

    [TestMethod]
    public void OneEventAmongManyRowsIsAWarningNotASilentFit()
    {
        var ml = new MLContext(seed: 1);
        var warnings = new List<string>();
        ml.Log += (_, e) => { if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning) warnings.Add(e.RawMessage); };
        var random = new Random(3);
        var rows = Enumerable.Range(0, 300).Select(i => new LungRow { Time = 10 + random.Next(1000), Status = i == 7 ? 2 : 1, Sex = i % 2 }).ToArray();
        var options = new FlexibleSurvivalTrainer.Options { TimeColumnName = "Time", EventColumnName = "Status", EventValue = 2, PhFeatureColumnNames = ["Sex"] };
        using var model = ml.Survival().Trainers.FlexibleParametric(options).Fit(ml.Data.LoadFromEnumerable(rows));
        Assert.IsTrue(model.Model.Notes.Any(n => n.Contains("Only 1 event row(s)", StringComparison.Ordinal)), string.Join(" | ", model.Model.Notes));
        Assert.IsTrue(!model.Model.Converged || model.Model.AtBoundary || warnings.Count > 0, "a fit on one event is flagged");
        if (!model.Model.Converged) Assert.IsNotEmpty(warnings, "a fit that did not converge warns on MLContext.Log");
    }
}
