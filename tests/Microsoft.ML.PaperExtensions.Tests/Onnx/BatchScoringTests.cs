using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Onnx;
using Microsoft.ML.PaperExtensions.SemiSupervised;
using Microsoft.ML.PaperExtensions.Survival;
using Microsoft.ML.PaperExtensions.Tests.Ordinal;
using Microsoft.ML.PaperExtensions.Tests.SemiSupervised;
using Microsoft.ML.PaperExtensions.Tests.Survival;

namespace Microsoft.ML.PaperExtensions.Tests.Onnx;

/// <summary>
/// In-process scoring runs the graph over blocks of rows; it must equal the saved chain's row-by-row scoring exactly. Each
/// column is read by a cursor of its own, so each comparison also runs the graph cut down to that column.
/// </summary>
[TestClass]
public sealed class BatchScoringTests
{
    [TestMethod]
    public void OrdinalBlocksEqualRowByRowScoringAcrossBlockBoundariesAndNaNRows()
    {
        var ml = new MLContext(seed: 1);
        var rows = PrestoPropertyTests.Simulate(BatchScoringDataView.BlockRows * 2 + 37, 5);
        rows[1500].Features[0] = float.NaN;
        var data = ml.Data.LoadFromEnumerable(rows);
        using var model = ml.Ordinal().Trainers.Presto(lambda: 0.01).Fit(ml.Data.LoadFromEnumerable(rows.Take(400)));
        AssertSame(model.Transform(data), model.TransformRowByRow(data));
        Assert.AreEqual(0u, model.Transform(data).GetColumn<uint>(ColumnNames.PredictedLabel).ElementAt(1500), "the NaN row has the missing key");
    }

    [TestMethod]
    public void SurvivalAndAnMlNetStudentFollowingTheGraphEqualRowByRowScoring()
    {
        var ml = new MLContext(seed: 1);
        var veteran = ml.Data.LoadFromEnumerable(VeteranData.Load());
        using var survival = ml.Survival().Trainers.FlexibleParametric(new FlexibleSurvivalTrainer.Options
        {
            TimeColumnName = "Time", EventColumnName = "Status", PhFeatureColumnNames = ["Karno"], AftFeatureColumnNames = ["Trt2"], Times = [30, 90], Quantiles = [0.25],
        }).Fit(veteran);
        AssertSame(survival.Transform(veteran), survival.TransformRowByRow(veteran));

        var train = ml.Data.LoadFromEnumerable(WadTrainerTests.Small.Train);
        using var wad = ml.SemiSupervised().Trainers.Wad(new WadTrainer.Options
        {
            Seed = 1, TeacherEpochs = 2, Split = 1,
            StudentTrainer = (label, features, weight) => ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(label, features, weight),
        }).Fit(train);
        AssertSame(wad.Transform(train), wad.TransformRowByRow(train));
    }

    [TestMethod]
    public void ACursorOfOneOutputRunsOnlyTheNodesThatOutputNeeds()
    {
        var ml = new MLContext(seed: 1);
        var veteran = ml.Data.LoadFromEnumerable(VeteranData.Load());
        using var survival = ml.Survival().Trainers.FlexibleParametric(new FlexibleSurvivalTrainer.Options
        {
            TimeColumnName = "Time", EventColumnName = "Status", PhFeatureColumnNames = ["Karno"], Times = [30, 90], Kappa = 0.5,
        }).Fit(veteran);
        var full = survival.OnnxModel;
        var pruned = OnnxGraphBuilder.Prune(full, [ColumnNames.Score]);
        CollectionAssert.AreEqual(new[] { ColumnNames.Score }, pruned.Graph.Output.Select(o => o.Name).ToArray());
        CollectionAssert.AreEqual(full.Graph.Input.Select(i => i.Name).ToArray(), pruned.Graph.Input.Select(i => i.Name).ToArray(), "inputs stay");
        // The survival, hazard and cumulative hazard at the two times, the cure fraction and the parameters are not computed.
        Assert.IsLessThan(full.Graph.Node.Count * 2 / 3, pruned.Graph.Node.Count, $"{pruned.Graph.Node.Count} of {full.Graph.Node.Count} nodes");
        Assert.IsTrue(pruned.Graph.Node.All(n => full.Graph.Node.Contains(n)), "the kept nodes are the graph's own");
        var produced = pruned.Graph.Node.SelectMany(n => n.Output).Concat(pruned.Graph.Input.Select(i => i.Name)).Concat(pruned.Graph.Initializer.Select(t => t.Name)).ToHashSet();
        Assert.IsTrue(pruned.Graph.Node.SelectMany(n => n.Input).Where(i => i.Length > 0).All(produced.Contains), "every node input is produced");
        Assert.ThrowsExactly<ArgumentException>(() => OnnxGraphBuilder.Prune(full, ["NoSuchColumn"]));
    }

    private static void AssertSame(IDataView batched, IDataView rowByRow)
    {
        var expected = rowByRow.Schema.Where(c => !c.IsHidden).ToList();
        CollectionAssert.AreEqual(expected.Select(c => c.Name).ToList(), batched.Schema.Where(c => !c.IsHidden).Select(c => c.Name).ToList(), "columns");
        foreach (var column in expected)
        {
            var other = batched.Schema[column.Name];
            Assert.AreEqual(column.Type, other.Type, column.Name);
            var values = Values(rowByRow, column);
            var batchedValues = Values(batched, other);
            CollectionAssert.AreEqual(values, batchedValues, $"column {column.Name}");
        }
    }

    private static List<object> Values(IDataView view, DataViewSchema.Column column) => column.Type switch
    {
        VectorDataViewType { ItemType: var item } when item == NumberDataViewType.Double => view.GetColumn<double[]>(column).SelectMany(v => v.Cast<object>()).ToList(),
        VectorDataViewType => view.GetColumn<float[]>(column).SelectMany(v => v.Cast<object>()).ToList(),
        KeyDataViewType => view.GetColumn<uint>(column).Cast<object>().ToList(),
        BooleanDataViewType => view.GetColumn<bool>(column).Cast<object>().ToList(),
        TextDataViewType => view.GetColumn<string>(column).Cast<object>().ToList(),
        _ when column.Type == NumberDataViewType.Double => view.GetColumn<double>(column).Cast<object>().ToList(),
        _ => view.GetColumn<float>(column).Cast<object>().ToList(),
    };
}
