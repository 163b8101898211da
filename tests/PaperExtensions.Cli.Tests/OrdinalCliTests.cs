using System.Globalization;

namespace PaperExtensions.Cli.Tests;

[TestClass]
public sealed class OrdinalCliTests
{
    private static readonly string[] Fit =
        ["ordinal", "--data", CliProcess.DataFile("soup.csv"), "--label", "SURENESS", "--categorical", "PROD,DAY,COLD,GENDER", "--lambda", "0", "--rare", "first"];

    [TestMethod]
    public void JsonReportsTheFitAndMatchesTheVgamLogLikelihood()
    {
        var result = CliProcess.Run([.. Fit, "--json"]);
        Assert.AreEqual(0, result.ExitCode, result.Error);
        var json = result.Json();
        Assert.AreEqual(1847, json.GetProperty("n").GetInt32());
        CollectionAssert.AreEqual(new[] { "1", "2", "3", "4", "5", "6" }, json.GetProperty("classes").EnumerateArray().Select(c => c.GetString()).ToArray());
        Assert.AreEqual(0.0, json.GetProperty("lambda").GetDouble());
        // The rare class first reverses SURENESS into k = 7 - SURENESS internally: the model of Data/reference/ordinal.R.
        Assert.AreEqual(-2663.89899688, json.GetProperty("logLikelihood").GetDouble(), 1e-5);
        Assert.AreEqual(5, json.GetProperty("intercepts").GetArrayLength());
        Assert.AreEqual(4, json.GetProperty("weights")[0].GetArrayLength());
        Assert.AreEqual(System.Text.Json.JsonValueKind.Null, json.GetProperty("cvBrier").ValueKind, "no CV when lambda is given");
        Assert.AreEqual(0, json.GetProperty("crossingRepairs").GetInt32());
    }

    [TestMethod]
    public void PredictWritesOneRowOfClassProbabilitiesPerInputRow()
    {
        var output = Path.Combine(Path.GetTempPath(), $"ordinal-{Guid.NewGuid():N}.csv");
        try
        {
            var result = CliProcess.Run([.. Fit, "--predict", CliProcess.DataFile("soup.csv"), "--out", output, "--json"]);
            Assert.AreEqual(0, result.ExitCode, result.Error);
            var lines = File.ReadAllLines(output);
            Assert.AreEqual("p_1,p_2,p_3,p_4,p_5,p_6", lines[0]);
            Assert.AreEqual(1848, lines.Length);
            foreach (var line in lines.Skip(1).Take(50))
            {
                Assert.AreEqual(1.0, line.Split(',').Sum(v => double.Parse(v, CultureInfo.InvariantCulture)), 1e-5);
            }
        }
        finally
        {
            File.Delete(output);
        }
    }

    [TestMethod]
    public void CrossValidationRunsAndReportsThePath()
    {
        var result = CliProcess.Run("ordinal", "--data", CliProcess.DataFile("soup.csv"), "--label", "SURENESS", "--categorical", "PROD,COLD",
            "--n-lambda", "4", "--cv-folds", "3", "--json");
        Assert.AreEqual(0, result.ExitCode, result.Error);
        var path = result.Json().GetProperty("cvBrier");
        Assert.AreEqual(4, path.GetArrayLength());
        StringAssert.Contains(result.Error, "cross-validation fold 3 of 3", "progress goes to standard error");
    }

    [TestMethod]
    public void BadOptionsAndLevelsAreOneLineErrors()
    {
        var both = CliProcess.Run([.. Fit, "--cv-folds", "3"]);
        Assert.AreEqual(2, both.ExitCode);
        StringAssert.Contains(both.Error, "--lambda and --cv-folds exclude each other");

        // It used to reach the trainer and come back as "NumberOfFolds must be at least 2", an option the command line does not have.
        var oneFold = CliProcess.Run("ordinal", "--data", CliProcess.DataFile("soup.csv"), "--label", "SURENESS", "--categorical", "PROD", "--cv-folds", "0");
        Assert.AreEqual(1, oneFold.ExitCode, oneFold.Error);
        StringAssert.Contains(oneFold.Error, "--cv-folds must be at least 2, but is 0");
        var foldsNotANumber = CliProcess.Run("ordinal", "--data", CliProcess.DataFile("soup.csv"), "--label", "SURENESS", "--categorical", "PROD", "--cv-folds", "x");
        Assert.AreEqual(2, foldsNotANumber.ExitCode, foldsNotANumber.Error);
        StringAssert.Contains(foldsNotANumber.Error, "Cannot parse argument 'x' for option '--cv-folds'");

        // A value that is no number used to crash the command-line validator with an unhandled exception.
        var notANumber = CliProcess.Run("ordinal", "--data", CliProcess.DataFile("soup.csv"), "--label", "SURENESS", "--categorical", "PROD", "--lambda", "x");
        Assert.AreEqual(2, notANumber.ExitCode, notANumber.Error);
        Assert.AreEqual("mlnet-papers: Cannot parse argument 'x' for option '--lambda' as expected type 'Double'. (see --help)", notANumber.Error.TrimEnd());

        var classes = CliProcess.Run("ordinal", "--data", CliProcess.DataFile("soup.csv"), "--label", "PROD", "--categorical", "COLD", "--classes", "Ref");
        Assert.AreEqual(1, classes.ExitCode);
        StringAssert.Contains(classes.Error, "--label column 'PROD' holds 'Test', which --classes does not list");
    }
}
