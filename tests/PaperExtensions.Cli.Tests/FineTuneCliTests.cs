namespace PaperExtensions.Cli.Tests;

[TestClass]
public sealed class FineTuneCliTests
{
    private static string Csv(int rows, int seed)
    {
        var random = new Random(seed);
        string[] positive = ["happy", "good", "love", "like"], negative = ["sad", "bad", "old", "no"];
        string[] fillers = ["the", "cat", "dog", "bird", "sat", "on", "mat", "house", "tree", "car", "park", "day", "night", "water", "food", "coffee", "tea"];
        var lines = new List<string> { "review,label,stars" };
        for (int i = 0; i < rows; i++)
        {
            var words = Enumerable.Range(0, 3 + random.Next(6)).Select(_ => fillers[random.Next(fillers.Length)]).ToList();
            words.Insert(random.Next(words.Count + 1), (i % 2 == 0 ? positive : negative)[random.Next(4)]);
            lines.Add($"\"{string.Join(' ', words)}\",{(i % 2 == 0 ? "pos" : "neg")},{(i % 2 == 0 ? 5 : 1)}");
        }
        var path = Path.Combine(Path.GetTempPath(), $"finetune-{Guid.NewGuid():N}.csv");
        File.WriteAllLines(path, lines);
        return path;
    }

    private static readonly string[] Fast = ["--epochs", "6", "--batch-size", "8", "--learning-rate", "0.01", "--max-length", "32", "--device", "cpu", "--json"];

    [TestMethod]
    public void ClassificationReportsQualitySpeedAndSizesAndSavesAdapterAndModel()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"adapter-{Guid.NewGuid():N}"), zip = folder + ".zip";
        var result = CliProcess.Run(["finetune", "--model", CliProcess.DataFile("tiny-bert"), "--train", Csv(96, 1), "--test", Csv(48, 2), "--text", "review",
            "--label", "label", "--method", "dora", "--save-adapter", folder, "--save-model", zip, .. Fast]);
        Assert.AreEqual(0, result.ExitCode, result.Error);
        var json = result.Json();
        Assert.AreEqual("Dora", json.GetProperty("method").GetString());
        Assert.IsGreaterThan(0.6, json.GetProperty("accuracy").GetDouble());
        foreach (var name in new[] { "macroF1", "trainSeconds", "samplesPerSecond", "peakMemoryMb" }) Assert.IsGreaterThan(0, json.GetProperty(name).GetDouble(), name);
        Assert.IsLessThan(json.GetProperty("totalParameters").GetInt64(), json.GetProperty("trainableParameters").GetInt64());
        Assert.IsTrue(File.Exists(Path.Combine(folder, "adapter_model.safetensors")));
        StringAssert.Contains(File.ReadAllText(Path.Combine(folder, "adapter_config.json")), "\"use_dora\": true");
        Assert.IsTrue(File.Exists(zip));
    }

    [TestMethod]
    public void RegressionReportsRmseAndR2()
    {
        var result = CliProcess.Run(["finetune", "--model", CliProcess.DataFile("tiny-bert"), "--train", Csv(96, 3), "--test", Csv(48, 4), "--text", "review",
            "--label", "stars", "--task", "regression", "--method", "allora", .. Fast]);
        Assert.AreEqual(0, result.ExitCode, result.Error);
        var json = result.Json();
        Assert.IsGreaterThan(0, json.GetProperty("rmse").GetDouble());
        Assert.IsTrue(json.TryGetProperty("r2", out _));
    }

    [TestMethod]
    public void AnUnknownTargetModuleIsNamedWithTheValidOnes()
    {
        var result = CliProcess.Run(["finetune", "--model", CliProcess.DataFile("tiny-bert"), "--train", Csv(16, 5), "--text", "review", "--label", "label",
            "--targets", "query,q_proj", .. Fast]);
        Assert.AreEqual(1, result.ExitCode);
        StringAssert.Contains(result.Error, "'q_proj'");
        StringAssert.Contains(result.Error, "query, key, value, dense");
    }
}
