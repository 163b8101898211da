using System.Globalization;

namespace PaperExtensions.Cli;

/// <summary>
/// Features built from CSV columns: numeric columns as they are, categorical columns as treatment-coded 0/1 dummies
/// (the first level is the reference and gets no dummy). Levels are ordered numerically when every value is a number,
/// else by first appearance. The same encoding is applied to a file to predict, where an unseen level is an error.
/// </summary>
internal sealed class DesignMatrix
{
    private DesignMatrix(IReadOnlyList<string> numeric, IReadOnlyDictionary<string, string[]> levels, IReadOnlyList<string> names)
    {
        Numeric = numeric;
        Levels = levels;
        Names = names;
    }

    public IReadOnlyList<string> Numeric { get; }

    /// <summary>Levels of each categorical column; the first is the reference.</summary>
    public IReadOnlyDictionary<string, string[]> Levels { get; }

    /// <summary>Feature names: the numeric columns, then one <c>column=level</c> per dummy.</summary>
    public IReadOnlyList<string> Names { get; }

    public static DesignMatrix Fit(CsvTable table, IReadOnlyList<string> numeric, IReadOnlyList<string> categorical)
    {
        var levels = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var column in categorical)
        {
            var values = table.Text(column, "--categorical");
            var distinct = values.Distinct().ToArray();
            levels[column] = distinct.All(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                ? distinct.OrderBy(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()
                : distinct;
        }
        var names = numeric.Concat(categorical.SelectMany(c => levels[c].Skip(1).Select(level => $"{c}={level}"))).ToList();
        return new DesignMatrix(numeric, levels, names);
    }

    /// <summary>The feature rows of <paramref name="table"/> under this encoding.</summary>
    public float[][] Rows(CsvTable table)
    {
        var columns = Numeric.Select(c => table.Numbers(c, "--features")).ToList();
        var rows = new float[table.RowCount][];
        var categorical = Levels.Select(kv => (Values: table.Text(kv.Key, "--categorical"), Column: kv.Key, Levels: kv.Value)).ToList();
        for (var r = 0; r < rows.Length; r++)
        {
            var row = new float[Names.Count];
            var j = 0;
            foreach (var column in columns) row[j++] = (float)column[r];
            foreach (var (values, column, levels) in categorical)
            {
                var index = Array.IndexOf(levels, values[r]);
                if (index < 0)
                {
                    throw new FormatException($"{table.Source}, data row {r + 1}: --categorical column '{column}' holds '{values[r]}', a level the training data did not have ({string.Join(", ", levels)}).");
                }
                for (var l = 1; l < levels.Length; l++) row[j++] = index == l ? 1 : 0;
            }
            rows[r] = row;
        }
        return rows;
    }
}
