using PaperExtensions.Cli;

namespace Microsoft.ML.PaperExtensions.Tests.Cli;

[TestClass]
public sealed class CsvTableTests
{
    private static CsvTable Parse(string text) => CsvTable.Parse(new StringReader(text), "test.csv");

    [TestMethod]
    public void ReadsQuotedNamesAndFieldsWithCommasQuotesAndLineBreaks()
    {
        var table = Parse("\"a b\",\"c,d\",e\r\n1,\"x, \"\"quoted\"\"\",\"two\nlines\"\r\n\r\n-2.5e3,,z\n");
        CollectionAssert.AreEqual(new[] { "a b", "c,d", "e" }, table.Header.ToArray());
        Assert.AreEqual(2, table.RowCount, "the blank line is skipped");
        CollectionAssert.AreEqual(new[] { "x, \"quoted\"", "" }, table.Text("c,d", "--x"));
        CollectionAssert.AreEqual(new[] { "two\nlines", "z" }, table.Text("e", "--x"));
        CollectionAssert.AreEqual(new[] { 1.0, -2500.0 }, table.Numbers("a b", "--x"));
    }

    [TestMethod]
    public void ErrorsNameTheLineColumnAndOption()
    {
        var table = Parse("t,s\n1,0\n\"2\nx\",1\nabc,1\n");
        var notNumber = Assert.Throws<FormatException>(() => table.Numbers("t", "--time"));
        Assert.AreEqual("test.csv, line 3: column 't' (--time) holds '2\nx', which is not a number.", notNumber.Message);
        var missing = Assert.Throws<ArgumentException>(() => table.Columns("t, q", "--features"));
        StringAssert.Contains(missing.Message, "--features names column 'q', which test.csv does not have (columns: t, s)");
        var empty = Assert.Throws<FormatException>(() => Parse("a,b\n1,\n").Numbers("b", "--b"));
        StringAssert.Contains(empty.Message, "line 2: column 'b' (--b) is empty");
    }

    [TestMethod]
    public void MalformedFilesAreRejected()
    {
        StringAssert.Contains(Assert.Throws<FormatException>(() => Parse("a,b\n1,2,3\n")).Message, "line 2: 3 fields, but the header has 2");
        StringAssert.Contains(Assert.Throws<FormatException>(() => Parse("a\n\"open\n")).Message, "line 2: a quoted field is not closed");
        StringAssert.Contains(Assert.Throws<FormatException>(() => Parse("a\nx\"y\n")).Message, "a quote inside an unquoted field");
        StringAssert.Contains(Assert.Throws<FormatException>(() => Parse("a\n\"x\"y\n")).Message, "text after the closing quote");
        StringAssert.Contains(Assert.Throws<FormatException>(() => Parse("a,a\n1,2\n")).Message, "names column 'a' twice");
        StringAssert.Contains(Assert.Throws<FormatException>(() => Parse("")).Message, "the file is empty");
    }

    [TestMethod]
    public void ReadsTheSharedDataFiles()
    {
        var table = CsvTable.Load(CliProcess.DataFile("lung.csv"));
        Assert.AreEqual(228, table.RowCount);
        Assert.AreEqual("ph.ecog", table.Header[5]);
        StringAssert.Contains(Assert.Throws<FormatException>(() => table.Numbers("wt.loss", "--x")).Message, "line 2: column 'wt.loss' (--x) is empty");
    }
}
