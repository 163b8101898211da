namespace PaperExtensions.Cli.Tests;

[TestClass]
public sealed class EmbedCliTests
{
    private static string Csv(string content)
    {
        var path = Path.Combine(Path.GetTempPath(), $"embed-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, content);
        return path;
    }

    [TestMethod]
    public void WritesTheOtherColumnsThenTheVectorAndReportsRowsAndCuts()
    {
        var data = Csv("id,review,note\n1,the cats sat on a mat,\"plain, with a comma\"\n2,,\"says \"\"hi\"\"\"\n3," + string.Join(' ', Enumerable.Repeat("dog jumped", 20)) + ",x\n");
        var output = Path.ChangeExtension(data, ".out.csv");
        var result = CliProcess.Run("embed", "--model", CliProcess.DataFile("tiny-bert"), "--data", data, "--text", "review", "--out", output,
            "--max-length", "16", "--device", "cpu", "--json");
        Assert.AreEqual(0, result.ExitCode, result.Error);
        var json = result.Json();
        Assert.AreEqual(3, json.GetProperty("rows").GetInt32());
        Assert.AreEqual(32, json.GetProperty("dimension").GetInt32());
        Assert.AreEqual(1, json.GetProperty("truncatedRows").GetInt32());
        Assert.AreEqual(1, json.GetProperty("emptyRows").GetInt32());
        foreach (var name in new[] { "seconds", "rowsPerSecond" }) Assert.IsGreaterThan(0, json.GetProperty(name).GetDouble(), name);
        StringAssert.Contains(result.Error, "1 of 3 texts were longer than 16 tokens");

        var lines = File.ReadAllLines(output);
        Assert.HasCount(4, lines);
        Assert.AreEqual("id,note," + string.Join(',', Enumerable.Range(0, 32).Select(k => "e" + k)), lines[0]);
        StringAssert.StartsWith(lines[1], "1,\"plain, with a comma\",");
        StringAssert.StartsWith(lines[2], "2,\"says \"\"hi\"\"\",");
        var vector = lines[1].Split(',')[^32..].Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.AreEqual(1.0, Math.Sqrt(vector.Sum(v => v * v)), 1e-5, "normalised by default");
    }

    [TestMethod]
    public void AMissingColumnOrModelIsNamed()
    {
        var data = Csv("id,review\n1,good\n");
        var column = CliProcess.Run("embed", "--model", CliProcess.DataFile("tiny-bert"), "--data", data, "--text", "text", "--out", data + ".out");
        Assert.AreEqual(1, column.ExitCode);
        StringAssert.Contains(column.Error, "'text'");
        var model = CliProcess.Run("embed", "--model", "/nonexistent/encoder", "--data", data, "--text", "review", "--out", data + ".out2", "--device", "cpu");
        Assert.AreEqual(1, model.ExitCode);
        StringAssert.Contains(model.Error, "/nonexistent/encoder");
    }
}
