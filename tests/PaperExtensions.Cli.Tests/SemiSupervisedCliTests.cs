namespace PaperExtensions.Cli.Tests;

[TestClass]
public sealed class SemiSupervisedCliTests
{
    /// <summary>
    /// digits.csv cut down for speed: digits 0-2 known with 3 labelled rows each, 60 unlabelled rows each, 60 unlabelled
    /// rows of digits 7-9 (unknown), and test rows of 0-2.
    /// </summary>
    private static (string Train, string Test) WriteFiles()
    {
        var lines = File.ReadAllLines(CliProcess.DataFile("digits.csv"));
        var rows = lines.Skip(1).Select(l => (Line: l, Digit: int.Parse(l[(l.LastIndexOf(',') + 1)..]))).ToList();
        var train = new List<string> { lines[0] };
        var test = new List<string> { lines[0] };
        foreach (var digit in new[] { 0, 1, 2 })
        {
            var of = rows.Where(r => r.Digit == digit).Select(r => r.Line).ToList();
            train.AddRange(of.Take(3));
            train.AddRange(of.Skip(3).Take(60).Select(Unlabel));
            test.AddRange(of.Skip(63).Take(40));
        }
        train.AddRange(rows.Where(r => r.Digit >= 7).Take(60).Select(r => Unlabel(r.Line)));
        var folder = Path.Combine(Path.GetTempPath(), $"semisupervised-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        File.WriteAllLines(Path.Combine(folder, "train.csv"), train);
        File.WriteAllLines(Path.Combine(folder, "test.csv"), test);
        return (Path.Combine(folder, "train.csv"), Path.Combine(folder, "test.csv"));

        static string Unlabel(string line) => line[..(line.LastIndexOf(',') + 1)];
    }

    [TestMethod]
    public void JsonReportsTestScoresAndTheUnlabelledRows()
    {
        var (train, test) = WriteFiles();
        var result = CliProcess.Run("semisupervised", "--train", train, "--label", "label", "--test", test, "--seed", "3", "--json");
        Assert.AreEqual(0, result.ExitCode, result.Error);
        var json = result.Json();
        Assert.AreEqual(9, json.GetProperty("labeled").GetInt32());
        Assert.AreEqual(240, json.GetProperty("unlabeled").GetInt32());
        CollectionAssert.AreEqual(new[] { "0", "1", "2" }, json.GetProperty("classes").EnumerateArray().Select(c => c.GetString()).ToArray());
        Assert.AreEqual(64, json.GetProperty("features").GetArrayLength());
        Assert.AreEqual(120, json.GetProperty("testRows").GetInt32());
        var accuracy = json.GetProperty("accuracy").GetDouble();
        // Three digits from 3 labels each (chance 0.33); the full digits comparison lives in docs/benchmarks.md.
        Assert.IsTrue(accuracy > 0.7, $"accuracy {accuracy}");
        Assert.IsTrue(json.GetProperty("macroF1").GetDouble() > 0.7, $"macro-F1 {json.GetProperty("macroF1").GetDouble()}, accuracy {accuracy}, notes {json.GetProperty("notes")}");
        var weight = json.GetProperty("meanUnlabeledWeight").GetDouble();
        Assert.IsTrue(weight >= 0 && weight < 2, $"mean weight {weight}");
        StringAssert.Contains(json.GetProperty("notes")[0].GetString(), "constant", "digits has blank border pixels");
        Assert.AreEqual(System.Text.Json.JsonValueKind.Null, json.GetProperty("unknownAuroc").ValueKind, "no test row of an unseen class");
        // The safe default ran: its decision is in the JSON and its figures in the notes.
        var fellBack = json.GetProperty("fellBackToSupervised").GetBoolean();
        Assert.IsTrue(json.GetProperty("notes").EnumerateArray().Any(n => n.GetString()!.Contains("cross-validation on the 9 labelled rows", StringComparison.Ordinal)),
            json.GetProperty("notes").ToString());
        Assert.AreEqual(fellBack, json.GetProperty("notes").EnumerateArray().Any(n => n.GetString()!.StartsWith("Fell back", StringComparison.Ordinal)));
        Assert.AreEqual(!fellBack, weight > 0, "WAD's weights, unless the pool was set aside");
    }

    [TestMethod]
    public void LabelSpreadingReportsTheUnknownClassAurocOfATestFileWithUnseenLabels()
    {
        var (train, test) = WriteFiles();
        // 60 rows of digits 7-9 that are not in the pool (which took the first 60): classes the model never saw.
        var lines = File.ReadAllLines(CliProcess.DataFile("digits.csv")).Skip(1).Where(l => int.Parse(l[(l.LastIndexOf(',') + 1)..]) >= 7).Skip(60).Take(60);
        File.AppendAllLines(test, lines);
        var result = CliProcess.Run("semisupervised", "--train", train, "--label", "label", "--test", test, "--method", "labelspreading", "--json");
        Assert.AreEqual(0, result.ExitCode, result.Error);
        var json = result.Json();
        Assert.AreEqual("labelspreading", json.GetProperty("method").GetString());
        Assert.AreEqual(120, json.GetProperty("testRows").GetInt32());
        Assert.AreEqual(60, json.GetProperty("testRowsOfUnknownClasses").GetInt32());
        var accuracy = json.GetProperty("accuracy").GetDouble();
        Assert.IsTrue(accuracy > 0.85, $"accuracy {accuracy}");
        var auroc = json.GetProperty("unknownAuroc").GetDouble();
        // Top label-spreading probability of unknown digits against known ones (0.5 = no better than chance).
        Assert.IsTrue(auroc > 0.6 && auroc <= 1, $"unknownAuroc {auroc}");
        Assert.AreEqual(System.Text.Json.JsonValueKind.Null, json.GetProperty("meanUnlabeledWeight").ValueKind, "label spreading weighs no row");
        Assert.AreEqual(System.Text.Json.JsonValueKind.Null, json.GetProperty("fellBackToSupervised").ValueKind, "label spreading has no safeguard");
    }

    [TestMethod]
    public void LabelPropagationFitsAndGraphSpaceBelongsToWadGraphOnly()
    {
        var (train, test) = WriteFiles();
        var result = CliProcess.Run("semisupervised", "--train", train, "--label", "label", "--test", test, "--method", "labelpropagation", "--json");
        Assert.AreEqual(0, result.ExitCode, result.Error);
        var json = result.Json();
        Assert.AreEqual("labelpropagation", json.GetProperty("method").GetString());
        var accuracy = json.GetProperty("accuracy").GetDouble();
        Assert.IsTrue(accuracy > 0.85, $"accuracy {accuracy}");

        var misplaced = CliProcess.Run("semisupervised", "--train", train, "--label", "label", "--method", "labelpropagation", "--graph-space", "raw");
        Assert.AreEqual(2, misplaced.ExitCode, "a usage error");
        StringAssert.Contains(misplaced.Error, "--graph-space is a setting of --method wad-graph and of --student neighbors, not of labelpropagation");
    }

    [TestMethod]
    public void TheNeighbourStudentFitsWithWadGraphAndIsRefusedWithoutATeacher()
    {
        var (train, test) = WriteFiles();
        var result = CliProcess.Run("semisupervised", "--train", train, "--label", "label", "--test", test, "--method", "wad-graph", "--graph-space", "raw",
            "--student", "neighbors", "--seed", "2", "--json");
        Assert.AreEqual(0, result.ExitCode, result.Error);
        var json = result.Json();
        Assert.AreEqual("neighbors", json.GetProperty("student").GetString());
        var accuracy = json.GetProperty("accuracy").GetDouble();
        Assert.IsTrue(accuracy > 0.8, $"accuracy {accuracy}");

        var refused = CliProcess.Run("semisupervised", "--train", train, "--label", "label", "--method", "selftraining", "--student", "neighbors");
        Assert.AreEqual(2, refused.ExitCode, "a usage error");
        StringAssert.Contains(refused.Error, "--student neighbors distils a teacher's pseudo-labels: --method wad, wad-graph or pseudolabel, not selftraining");
    }

    [TestMethod]
    public void AnUnknownLabelColumnIsNamed()
    {
        var (train, _) = WriteFiles();
        var result = CliProcess.Run("semisupervised", "--train", train, "--label", "digit");
        Assert.AreEqual(1, result.ExitCode);
        StringAssert.Contains(result.Error, "--label names column 'digit'");
    }

    [TestMethod]
    public void ATestFileWithoutTheLabelFailsBeforeTraining()
    {
        var (train, _) = WriteFiles();
        var result = CliProcess.Run("semisupervised", "--train", train, "--label", "label", "--test", CliProcess.DataFile("veteran.csv"));
        Assert.AreEqual(1, result.ExitCode);
        StringAssert.Contains(result.Error, "--label names column 'label', which");
        StringAssert.Contains(result.Error, "veteran.csv does not have");
        Assert.IsFalse(result.Error.Contains("teacher epoch", StringComparison.Ordinal), "no training before the test file is checked: " + result.Error);
    }
}
