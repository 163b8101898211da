namespace PaperExtensions.Cli.Tests;

[TestClass]
public sealed class SurvivalCliTests
{
    [TestMethod]
    public void WeibullJsonMatchesSurvreg()
    {
        // survreg's model uses trt2 = (trt == 2); trt itself shifts only the intercept, so the log-likelihood is the same.
        var result = CliProcess.Run("survival", "--data", CliProcess.DataFile("veteran.csv"), "--time", "time", "--event", "status",
            "--ph", "trt,karno", "--kappa", "1", "--json");
        Assert.AreEqual(0, result.ExitCode, result.Error);
        var json = result.Json();
        Assert.AreEqual(137, json.GetProperty("n").GetInt32());
        Assert.AreEqual(128, json.GetProperty("events").GetDouble());
        Assert.AreEqual(-725.792129206, json.GetProperty("logLikelihood").GetDouble(), 1e-5);
        Assert.AreEqual(1.0, json.GetProperty("kappa").GetDouble());
        Assert.IsTrue(json.GetProperty("converged").GetBoolean());
        var coefficients = json.GetProperty("coefficients").EnumerateArray().ToList();
        var karno = coefficients.Single(c => c.GetProperty("term").GetString() == "karno");
        Assert.AreEqual("lambda", karno.GetProperty("parameter").GetString());
        Assert.AreEqual(-0.0346011854295, karno.GetProperty("estimate").GetDouble(), 1e-6);
        Assert.IsGreaterThan(0, karno.GetProperty("stdError").GetDouble());
        foreach (var name in new[] { "aic", "bic", "iterations" }) Assert.IsTrue(json.TryGetProperty(name, out _), name);
    }

    [TestMethod]
    public void MissingValuesAreAnErrorUnlessDroppedAndThenCounted()
    {
        string[] args = ["survival", "--data", CliProcess.DataFile("lung.csv"), "--time", "time", "--event", "status", "--event-value", "2", "--ph", "age,ph.ecog", "--json"];
        var error = CliProcess.Run(args);
        Assert.AreEqual(1, error.ExitCode);
        StringAssert.Contains(error.Error, "lung.csv, line 15: column 'ph.ecog' is empty", "the file, the line and the column");

        var result = CliProcess.Run([.. args, "--drop-missing"]);
        Assert.AreEqual(0, result.ExitCode, result.Error);
        Assert.AreEqual(1, result.Json().GetProperty("droppedRows").GetInt32());
        Assert.AreEqual(227, result.Json().GetProperty("n").GetInt32());
        StringAssert.Contains(result.Error, "dropped 1 of 228 rows");
    }

    [TestMethod]
    public void PlotWritesAPng()
    {
        var png = Path.Combine(Path.GetTempPath(), $"survival-{Guid.NewGuid():N}.png");
        try
        {
            var result = CliProcess.Run("survival", "--data", CliProcess.DataFile("veteran.csv"), "--time", "time", "--event", "status", "--ph", "trt", "--plot", png);
            Assert.AreEqual(0, result.ExitCode, result.Error);
            var bytes = File.ReadAllBytes(png);
            CollectionAssert.AreEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes.Take(4).ToArray());
            StringAssert.Contains(result.Output, "kappa =");
        }
        finally
        {
            File.Delete(png);
        }
    }

    [TestMethod]
    public void ATimeThatIsNoNumberIsNamed()
    {
        var result = CliProcess.Run("survival", "--data", CliProcess.DataFile("veteran.csv"), "--time", "time", "--event", "status", "--ph", "karno", "--times", "30,x");
        Assert.AreEqual(1, result.ExitCode);
        Assert.AreEqual("mlnet-papers: --times must be comma-separated numbers, but holds 'x'.", result.Error.TrimEnd());
    }
}
