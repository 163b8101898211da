using System.Text;

namespace PaperExtensions.Cli.Tests;

[TestClass]
public sealed class QuantizeCliTests
{
    private static string Csv(int rows, int seed)
    {
        var random = new Random(seed);
        string[] positive = ["happy", "good", "love", "like"], negative = ["sad", "bad", "old", "no"];
        string[] fillers = ["the", "cat", "dog", "bird", "sat", "on", "mat", "house", "tree", "car", "park", "day"];
        var csv = new StringBuilder("text,label\n");
        for (int i = 0; i < rows; i++)
        {
            var words = Enumerable.Range(0, 3 + random.Next(5)).Select(_ => fillers[random.Next(fillers.Length)]).ToList();
            words.Insert(random.Next(words.Count + 1), (i % 2 == 0 ? positive : negative)[random.Next(4)]);
            csv.Append(string.Join(' ', words)).Append(',').Append(i % 2 == 0 ? "pos" : "neg").Append('\n');
        }
        var path = Path.Combine(Path.GetTempPath(), $"quantize-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, csv.ToString());
        return path;
    }

    [TestMethod]
    public void ReportsSizesLayerErrorsCosineAndAccuracyAndWritesTheQuantizedEncoder()
    {
        string calibration = Csv(60, 1), eval = Csv(40, 2), output = Path.ChangeExtension(calibration, ".onnx");
        var result = CliProcess.Run("quantize", "--model", CliProcess.DataFile("tiny-bert"), "--calibration", calibration, "--text", "text", "--method", "awq",
            "--bits", "4", "--group-size", "16", "--samples", "40", "--max-length", "16", "--eval", eval, "--label", "label", "--out", output, "--json");
        Assert.AreEqual(0, result.ExitCode, result.Error);
        var json = result.Json();
        Assert.AreEqual("Awq", json.GetProperty("method").GetString());
        Assert.AreEqual(4, json.GetProperty("bits").GetInt32());
        Assert.AreEqual(16, json.GetProperty("groupSize").GetInt32());
        Assert.AreEqual(4L * 2 * (4 * 32 * 32 + 2 * 32 * 64), json.GetProperty("bytesBefore").GetInt64(), "two layers of the tiny BERT in float32");
        Assert.IsLessThan(json.GetProperty("bytesBefore").GetInt64() / 3, json.GetProperty("bytesAfter").GetInt64());
        Assert.IsLessThan(json.GetProperty("modelBytesBefore").GetInt64(), json.GetProperty("modelBytesAfter").GetInt64());
        Assert.AreEqual(12, json.GetProperty("layers").GetArrayLength());
        Assert.AreEqual(10, json.GetProperty("heldOutTexts").GetInt32());
        Assert.IsGreaterThan(0.9, json.GetProperty("meanCosine").GetDouble());
        foreach (var name in new[] { "accuracy", "accuracyFullPrecision", "bitsPerWeight", "seconds" }) Assert.IsGreaterThan(0, json.GetProperty(name).GetDouble(), name);
        var graph = File.ReadAllBytes(output);
        Assert.IsGreaterThan(0, Encoding.ASCII.GetString(graph).IndexOf("MatMulNBits", StringComparison.Ordinal), "the written encoder runs MatMulNBits");
    }

    [TestMethod]
    public void QuantizesAFineTunedModelZipAndReportsAgreementAndAccuracy()
    {
        string train = Csv(80, 4), eval = Csv(40, 5), zip = Path.ChangeExtension(train, ".zip");
        var tune = CliProcess.Run("finetune", "--model", CliProcess.DataFile("tiny-bert"), "--train", train, "--text", "text", "--label", "label", "--epochs", "6",
            "--learning-rate", "0.01", "--rank", "4", "--batch-size", "8", "--max-length", "16", "--device", "cpu", "--save-model", zip, "--json");
        Assert.AreEqual(0, tune.ExitCode, tune.Error);
        var result = CliProcess.Run("quantize", "--model", zip, "--calibration", train, "--text", "text", "--method", "rtn", "--bits", "8", "--group-size", "16",
            "--samples", "40", "--eval", eval, "--label", "label", "--json");
        Assert.AreEqual(0, result.ExitCode, result.Error);
        var json = result.Json();
        Assert.IsGreaterThan(0.9, json.GetProperty("agreement").GetDouble(), "8-bit weights predict what the full-precision model predicts");
        Assert.AreEqual(json.GetProperty("accuracyFullPrecision").GetDouble(), json.GetProperty("accuracy").GetDouble(), 0.1);
        Assert.IsFalse(json.TryGetProperty("meanCosine", out _), "a classifier has no embedding to compare");
    }

    [TestMethod]
    public void BadBitsAndALabelWithoutEvalAreNamed()
    {
        string calibration = Csv(10, 3);
        var bits = CliProcess.Run("quantize", "--model", CliProcess.DataFile("tiny-bert"), "--calibration", calibration, "--text", "text", "--bits", "5");
        Assert.AreEqual(2, bits.ExitCode);
        StringAssert.Contains(bits.Error, "--bits");
        var label = CliProcess.Run("quantize", "--model", CliProcess.DataFile("tiny-bert"), "--calibration", calibration, "--text", "text", "--label", "label");
        Assert.AreEqual(1, label.ExitCode);
        StringAssert.Contains(label.Error, "--eval");
    }
}
