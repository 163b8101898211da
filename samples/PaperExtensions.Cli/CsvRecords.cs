using System.Text;

namespace PaperExtensions.Cli;

/// <summary>
/// RFC 4180 records read one at a time: fields separated by commas, fields in double quotes may hold commas, line breaks and
/// doubled quotes. Used for the header row and to find the file line of a data row named in an error; ML.NET's TextLoader
/// reads the data itself.
/// </summary>
internal static class CsvRecords
{
    private enum State { FieldStart, Unquoted, Quoted, QuoteClosed }

    /// <summary>The records of <paramref name="reader"/> with the 1-based line each starts on; blank lines are skipped.</summary>
    public static IEnumerable<(string[] Fields, int Line)> Read(TextReader reader, string source)
    {
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
                    if (EndRecord() is { } done) yield return (done, recordLine);
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
                    if (state == State.QuoteClosed) throw new FormatException($"{source}, line {line}: text after the closing quote of a field.");
                    field.Append(ch);
                    state = State.Unquoted;
                    break;
            }
        }
        if (state == State.Quoted) throw new FormatException($"{source}, line {recordLine}: a quoted field is not closed before the end of the file.");
        if (EndRecord() is { } last) yield return (last, recordLine);

        void EndField()
        {
            record.Add(field.ToString());
            field.Clear();
            state = State.FieldStart;
        }

        string[]? EndRecord()
        {
            if (record.Count == 0 && field.Length == 0 && state == State.FieldStart) return null; // a blank line
            EndField();
            var fields = record.ToArray();
            record.Clear();
            return fields;
        }
    }
}
