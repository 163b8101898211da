using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Categorical;
using Microsoft.ML.PaperExtensions.Data;

namespace PaperExtensions.Cli;

/// <summary>
/// A CSV file with a header row, read through ML.NET's TextLoader: typed and streaming, so memory stays in proportion to
/// what a trainer keeps, not to the text. Every number is checked as it is read (TextLoader alone turns a stray word into NaN
/// and an empty last field into 0), and errors name the file, the line, the column and the value.
/// </summary>
internal sealed class CsvSource
{
    private readonly Dictionary<string, int> _index;

    private CsvSource(string path, string[] header)
    {
        Path = path;
        Header = header;
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < header.Length; i++)
        {
            if (!_index.TryAdd(header[i], i)) throw new FormatException($"{path}: the header names column '{header[i]}' twice.");
        }
    }

    /// <summary>The file, for messages.</summary>
    public string Path { get; }

    /// <summary>Column names, in file order.</summary>
    public IReadOnlyList<string> Header { get; }

    /// <summary>Opens a file and reads its header row.</summary>
    public static CsvSource Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"The data file '{path}' does not exist.", path);
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var header = CsvRecords.Read(reader, path).Select(r => r.Fields).FirstOrDefault()
            ?? throw new FormatException($"{path}: the file is empty; a header row is required.");
        return new CsvSource(path, header);
    }

    /// <summary>Splits a comma-separated list of column names and checks each exists.</summary>
    public IReadOnlyList<string> Columns(string list, string option)
    {
        var names = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0) throw new ArgumentException($"{option} names no column.");
        foreach (var name in names) Column(name, option);
        return names;
    }

    /// <summary>The index of a column, or an error that names the option and lists the columns.</summary>
    public int Column(string name, string option) =>
        _index.TryGetValue(name, out var i) ? i
            : throw new ArgumentException($"{option} names column '{name}', which {Path} does not have (columns: {string.Join(", ", Header)}).");

    /// <summary>
    /// The named columns as an IDataView: numeric kinds are checked value by value (an empty field is an error, except in the
    /// columns of <paramref name="emptyIsMissing"/>, where it is NaN), text is read as it is.
    /// </summary>
    public IDataView Load(MLContext ml, IReadOnlyList<(string Name, DataKind Kind)> columns, IReadOnlyCollection<string>? emptyIsMissing = null)
    {
        var loaderColumns = new List<TextLoader.Column>();
        foreach (var (name, kind) in columns.DistinctBy(c => c.Name))
        {
            loaderColumns.Add(new TextLoader.Column(name, kind, Column(name, "--data")));
            if (kind is DataKind.Single or DataKind.Double) loaderColumns.Add(new TextLoader.Column(ValidatingDataView.TextShadow(name), DataKind.String, Column(name, "--data")));
        }
        var loader = ml.Data.CreateTextLoader(new TextLoader.Options
        {
            Separators = [','],
            HasHeader = true,
            AllowQuoting = true,
            ReadMultilines = true,
            TrimWhitespace = false,
            Columns = [.. loaderColumns],
        });
        return new ValidatingDataView(loader.Load(Path), this, emptyIsMissing ?? []);
    }

    /// <summary>The text of the named columns, row by row (streaming), for deciding types and levels before loading.</summary>
    public IEnumerable<string[]> Text(MLContext ml, IReadOnlyList<string> columns)
    {
        var view = ml.Data.CreateTextLoader(new TextLoader.Options
        {
            Separators = [','],
            HasHeader = true,
            AllowQuoting = true,
            ReadMultilines = true,
            TrimWhitespace = false,
            Columns = columns.Select(c => new TextLoader.Column(c, DataKind.String, Column(c, "--data"))).ToArray(),
        }).Load(Path);
        using var cursor = view.GetRowCursor(view.Schema);
        var getters = view.Schema.Select(c => cursor.GetGetter<ReadOnlyMemory<char>>(c)).ToArray();
        var value = default(ReadOnlyMemory<char>);
        while (cursor.MoveNext())
        {
            var row = new string[getters.Length];
            for (var j = 0; j < getters.Length; j++)
            {
                getters[j](ref value);
                row[j] = value.ToString();
            }
            yield return row;
        }
    }

    /// <summary>Whether a field is a number as this command line reads numbers (invariant culture).</summary>
    public static bool IsNumber(string text) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    /// <summary>The line on which data row <paramref name="row"/> (0-based, after the header) starts, and its field in <paramref name="column"/>.</summary>
    public (int Line, string Text) Locate(long row, string column)
    {
        var index = Column(column, "--data");
        using var reader = new StreamReader(Path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var (fields, line) = CsvRecords.Read(reader, Path).Skip(1).ElementAt((int)row);
        return (line, index < fields.Length ? fields[index] : "");
    }

    /// <summary>Every level of a categorical column of this file must be one the training data had (<paramref name="coding"/> was fitted on it).</summary>
    public void CheckLevels(MLContext ml, TreatmentCodingTransformer coding)
    {
        var columns = coding.Columns.Select(c => c.Input).ToList();
        if (columns.Count == 0) return;
        long row = 0;
        foreach (var values in Text(ml, columns))
        {
            for (var j = 0; j < columns.Count; j++)
            {
                var levels = coding.Levels[columns[j]];
                if (!levels.Contains(values[j]))
                {
                    throw new FormatException($"{Path}, line {Locate(row, columns[j]).Line}: --categorical column '{columns[j]}' holds '{values[j]}', a level the training data did not have ({string.Join(", ", levels)}).");
                }
            }
            row++;
        }
    }

    /// <summary>An error for a value a trainer refused, pointing at the line of the file.</summary>
    public Exception Explain(DataValueException e)
    {
        if (!_index.ContainsKey(e.Column)) return e;
        var (line, text) = Locate(e.FirstRow, e.Column);
        var more = e.Count > 1 ? $" ({e.Count} rows in all)" : "";
        return new FormatException($"{Path}, line {line}: column '{e.Column}' holds '{text}', which the model cannot use: {e.Message}{more}", e);
    }
}
