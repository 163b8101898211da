using Microsoft.ML;
using System.Globalization;
using System.Text;
using Microsoft.ML.PaperExtensions.Runtime;

namespace PaperExtensions.Cli;

/// <summary>
/// An RFC 4180 CSV file held as text columns: a header row, fields separated by commas, fields in double quotes may hold
/// commas, line breaks and doubled quotes. Numbers are parsed with the invariant culture; errors name the file, the
/// column and the line.
/// </summary>
internal sealed class CsvTable
{
    private readonly Dictionary<string, int> _index;
    private readonly List<string[]> _rows;
    private readonly List<int> _lines;

    private CsvTable(string source, string[] header, List<string[]> rows, List<int> lines)
    {
        Source = source;
        Header = header;
        _rows = rows;
        _lines = lines;
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < header.Length; i++)
        {
            if (!_index.TryAdd(header[i], i))
            {
                throw new FormatException($"{source}: the header names column '{header[i]}' twice.");
            }
        }
    }

    /// <summary>Where the table came from, for messages.</summary>
    public string Source { get; }

    /// <summary>Column names, in file order.</summary>
    public IReadOnlyList<string> Header { get; }

    /// <summary>Number of data rows.</summary>
    public int RowCount => _rows.Count;

    /// <summary>Reads a CSV file, reporting progress by bytes read.</summary>
    public static CsvTable Load(string path, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The data file '{path}' does not exist.", path);
        }
        using var stream = File.OpenRead(path);
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var megabytes = (int)Math.Max(1, stream.Length >> 20);
        return Parse(reader, path, read =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            progress?.Report(new TrainingProgress("reading " + Path.GetFileName(path), (int)Math.Min(megabytes, stream.Position >> 20), megabytes));
        });
    }

    private enum State { FieldStart, Unquoted, Quoted, QuoteClosed }

    /// <summary>Parses CSV text; <paramref name="everyThousandRows"/> is called with the row count as parsing goes on.</summary>
    public static CsvTable Parse(TextReader reader, string source, Action<int>? everyThousandRows = null)
    {
        var records = new List<string[]>();
        var lines = new List<int>();
        var record = new List<string>();
        var field = new StringBuilder();
        var state = State.FieldStart;
        int line = 1, recordLine = 1, c;
        while ((c = reader.Read()) != -1)
        {
            var ch = (char)c;
            if (state == State.Quoted)
            {
                if (ch != '"')
                {
                    line += ch == '\n' ? 1 : 0;
                    field.Append(ch);
                }
                else if (reader.Peek() == '"')
                {
                    field.Append('"');
                    reader.Read();
                }
                else
                {
                    state = State.QuoteClosed;
                }
                continue;
            }
            switch (ch)
            {
                case ',':
                    EndField();
                    break;
                case '\n':
                    EndRecord();
                    recordLine = ++line;
                    break;
                case '\r':
                    break;
                case '"' when state == State.FieldStart:
                    state = State.Quoted;
                    break;
                case '"':
                    throw new FormatException($"{source}, line {line}: a quote inside an unquoted field; quote the whole field and double the inner quote.");
                default:
                    if (state == State.QuoteClosed)
                    {
                        throw new FormatException($"{source}, line {line}: text after the closing quote of a field.");
                    }
                    field.Append(ch);
                    state = State.Unquoted;
                    break;
            }
        }
        if (state == State.Quoted)
        {
            throw new FormatException($"{source}, line {recordLine}: a quoted field is not closed before the end of the file.");
        }
        EndRecord();
        if (records.Count == 0)
        {
            throw new FormatException($"{source}: the file is empty; a header row is required.");
        }
        return new CsvTable(source, records[0], records.Skip(1).ToList(), lines.Skip(1).ToList());

        void EndField()
        {
            record.Add(field.ToString());
            field.Clear();
            state = State.FieldStart;
        }

        void EndRecord()
        {
            if (record.Count == 0 && field.Length == 0 && state == State.FieldStart)
            {
                return; // a blank line
            }
            EndField();
            if (records.Count > 0 && record.Count != records[0].Length)
            {
                throw new FormatException($"{source}, line {recordLine}: {record.Count} fields, but the header has {records[0].Length}.");
            }
            records.Add(record.ToArray());
            lines.Add(recordLine);
            record.Clear();
            if (records.Count % 1000 == 0)
            {
                everyThousandRows?.Invoke(records.Count);
            }
        }
    }

    /// <summary>Splits a comma-separated list of column names and checks each exists.</summary>
    public IReadOnlyList<string> Columns(string list, string option)
    {
        var names = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0)
        {
            throw new ArgumentException($"{option} names no column.");
        }
        foreach (var name in names)
        {
            Column(name, option);
        }
        return names;
    }

    /// <summary>The index of a column, or an error that names the option and lists the columns.</summary>
    public int Column(string name, string option) =>
        _index.TryGetValue(name, out var i) ? i
            : throw new ArgumentException($"{option} names column '{name}', which {Source} does not have (columns: {string.Join(", ", Header)}).");

    /// <summary>A column's raw text values.</summary>
    public string[] Text(string name, string option)
    {
        var i = Column(name, option);
        return _rows.Select(r => r[i]).ToArray();
    }

    /// <summary>A column parsed as numbers (invariant culture); empty or non-numeric fields are errors naming the line.</summary>
    public double[] Numbers(string name, string option)
    {
        var i = Column(name, option);
        var values = new double[_rows.Count];
        for (var r = 0; r < values.Length; r++)
        {
            var text = _rows[r][i];
            if (text.Length == 0)
            {
                throw new FormatException($"{Source}, line {_lines[r]}: column '{name}' ({option}) is empty; missing values are not allowed here.");
            }
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out values[r]))
            {
                throw new FormatException($"{Source}, line {_lines[r]}: column '{name}' ({option}) holds '{text}', which is not a number.");
            }
        }
        return values;
    }
}
