namespace PaperExtensions.Cli.Tests;

/// <summary>How the command line reads CSV files: TextLoader plus checks that name the file, the line, the column and the value.</summary>
[TestClass]
public sealed class CsvLoadingTests
{
    [TestMethod]
    public void AStrayWordInANumericLabelIsAnErrorNamingTheValueAndTheLine()
    {
        var file = WithChangedField(CliProcess.DataFile("soup.csv"), dataRow: 40, column: "SURENESS", value: "six");
        try
        {
            var result = CliProcess.Run("ordinal", "--data", file, "--label", "SURENESS", "--categorical", "PROD", "--lambda", "0", "--json");
            Assert.AreEqual(1, result.ExitCode, result.Output);
            StringAssert.Contains(result.Error, "line 42: --label column 'SURENESS' holds 'six' among numbers");
            Assert.AreEqual("", result.Output, "no model is reported");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [TestMethod]
    public void ATextLabelNeedsItsOrderAndAWordInANumericFeatureIsNamed()
    {
        var text = CliProcess.Run("ordinal", "--data", CliProcess.DataFile("soup.csv"), "--label", "SOUPFREQ", "--categorical", "PROD", "--lambda", "0");
        Assert.AreEqual(1, text.ExitCode);
        StringAssert.Contains(text.Error, "--label column 'SOUPFREQ' is text");
        StringAssert.Contains(text.Error, "--classes");

        var file = WithChangedField(CliProcess.DataFile("veteran.csv"), dataRow: 9, column: "karno", value: "eighty");
        try
        {
            var result = CliProcess.Run("survival", "--data", file, "--time", "time", "--event", "status", "--ph", "karno", "--kappa", "1");
            Assert.AreEqual(1, result.ExitCode);
            StringAssert.Contains(result.Error, "line 11: column 'karno' holds 'eighty', which is not a number.");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [TestMethod]
    public void PredictionsAreNeverWrittenOverAnInputFile()
    {
        var copy = Path.Combine(Path.GetTempPath(), $"soup-{Guid.NewGuid():N}.csv");
        File.Copy(CliProcess.DataFile("soup.csv"), copy);
        try
        {
            var before = File.ReadAllBytes(copy);
            var result = CliProcess.Run("ordinal", "--data", copy, "--label", "SURENESS", "--categorical", "PROD", "--lambda", "0", "--predict", copy, "--out", copy);
            Assert.AreEqual(1, result.ExitCode);
            StringAssert.Contains(result.Error, "--out '" + copy + "' is an input file of this command");
            CollectionAssert.AreEqual(before, File.ReadAllBytes(copy), "the data are untouched");
        }
        finally
        {
            File.Delete(copy);
        }
    }

    /// <summary>A copy of a CSV file with one field replaced (fields of these files hold no commas).</summary>
    private static string WithChangedField(string source, int dataRow, string column, string value)
    {
        var lines = File.ReadAllLines(source);
        var header = lines[0].Split(',').Select(h => h.Trim('"')).ToList();
        var fields = lines[dataRow + 1].Split(',');
        fields[header.IndexOf(column)] = value;
        lines[dataRow + 1] = string.Join(',', fields);
        var path = Path.Combine(Path.GetTempPath(), $"changed-{Guid.NewGuid():N}.csv");
        File.WriteAllLines(path, lines);
        return path;
    }
}
