namespace Microsoft.ML.PaperExtensions.Tests.AutoML;

/// <summary>Saves a fitted pipeline to a temporary model file and loads it back, as an app would.</summary>
internal static class SavedModel
{
    /// <summary>
    /// Saves <paramref name="model"/>, loads it in the same context, checks that the loaded model gives the same
    /// <c>Score</c> on the first 20 rows of <paramref name="data"/>, and returns it (the caller disposes it).
    /// </summary>
    public static ITransformer RoundTrip(MLContext ml, ITransformer model, IDataView data)
    {
        var path = Path.Combine(Path.GetTempPath(), $"automl-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(model, data.Schema, path);
            var loaded = ml.Model.Load(path, out _);
            var before = ml.Data.CreateEnumerable<Scored>(model.Transform(data), false).Take(20).ToList();
            var after = ml.Data.CreateEnumerable<Scored>(loaded.Transform(data), false).Take(20).ToList();
            Assert.AreEqual(before.Count, after.Count);
            for (var i = 0; i < before.Count; i++) CollectionAssert.AreEqual(before[i].Score, after[i].Score, $"row {i}");
            return loaded;
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class Scored
    {
        public float[] Score { get; set; } = [];
    }
}
