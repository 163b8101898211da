using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Ordinal;
using Microsoft.ML.PaperExtensions.Runtime;

namespace Microsoft.ML.PaperExtensions.Tests.Training;

[TestClass]
public sealed class TrainingScopeTests
{
    [TestMethod]
    public void APipelineFitInsideAScopeReportsProgressAndStopsWhenCancelled()
    {
        var ml = new MLContext(seed: 1);
        var data = Data(ml);
        var pipeline = ml.Transforms.NormalizeMinMax("Features").Append(ml.Ordinal().Trainers.Presto(new PrestoTrainer.Options { Lambda = 0.01 }));

        var reports = new List<TrainingProgress>();
        using (TrainingScope.Begin(CancellationToken.None, new InlineProgress(reports.Add)))
        {
            pipeline.Fit(data);
        }
        Assert.IsNotEmpty(reports, "the trainer inside the pipeline reported to the scope");

        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        using (TrainingScope.Begin(cancellation.Token))
        {
            Assert.Throws<OperationCanceledException>(() => pipeline.Fit(data));
        }
        Assert.IsNull(TrainingScope.Current, "disposing the scope ends it");
        pipeline.Fit(data);
    }

    [TestMethod]
    public void TheFitExtensionTakesATokenForAnyEstimatorAndScopesNest()
    {
        var ml = new MLContext(seed: 1);
        var data = Data(ml);
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        var pipeline = ml.Transforms.NormalizeMinMax("Features").Append(ml.Ordinal().Trainers.ProportionalOdds());
        Assert.Throws<OperationCanceledException>(() => pipeline.Fit(data, cancellation.Token));
        Assert.Throws<OperationCanceledException>(() => ml.Ordinal().Trainers.ProportionalOdds().Fit(data, cancellation.Token));

        using (var outer = TrainingScope.Begin(cancellation.Token))
        {
            using (TrainingScope.Begin(CancellationToken.None))
            {
                pipeline.Fit(data);
            }
            Assert.AreSame(outer, TrainingScope.Current);
        }
    }

    private static IDataView Data(MLContext ml)
    {
        var random = new Random(2);
        var rows = Enumerable.Range(0, 300).Select(_ =>
        {
            var x = new[] { (float)random.NextDouble(), (float)random.NextDouble() };
            var label = Math.Clamp((int)((x[0] + x[1] + random.NextDouble()) * 1.5), 0, 3);
            return new Row { Label = label, Features = x };
        }).ToList();
        return ml.Data.LoadFromEnumerable(rows);
    }

    private sealed class Row
    {
        public float Label { get; set; }

        [VectorType(2)]
        public float[] Features { get; set; } = [];
    }

    private sealed class InlineProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
