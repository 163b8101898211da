using System.Globalization;
using Microsoft.ML.PaperExtensions.Data;

namespace Microsoft.ML.PaperExtensions.Survival;

/// <summary>The columns a flexible survival fit reads, validated: times &gt; 0, events 0/1, entry times below the times.</summary>
internal sealed class SurvivalTrainingData
{
    public required double[] Time { get; init; }

    public required double[] Event { get; init; }

    public required double[] Entry { get; init; }

    public required double[] Weight { get; init; }

    /// <summary>Covariates of each component, row-major [rows, width].</summary>
    public required CovariateMatrix Aft { get; init; }

    /// <inheritdoc cref="Aft"/>
    public required CovariateMatrix Ph { get; init; }

    /// <inheritdoc cref="Aft"/>
    public required CovariateMatrix Shape { get; init; }

    public string[] AftNames => Aft.Names;

    public string[] PhNames => Ph.Names;

    public string[] ShapeNames => Shape.Names;

    public int RowCount => Time.Length;

    public static void Validate(DataViewSchema schema, FlexibleSurvivalTrainer.Options o)
    {
        DataViewReader.Validate(schema, new DataViewReader.Request([o.TimeColumnName], o.EventColumnName, LabelKind.Boolean | LabelKind.Numeric, o.ExampleWeightColumnName, "time"));
        if (o.EntryTimeColumnName is not null) DataViewReader.Validate(schema, new DataViewReader.Request([o.EntryTimeColumnName], FeatureRole: "entry time"));
        DataViewReader.Validate(schema, new DataViewReader.Request(o.AftFeatureColumnNames, FeatureRole: "AFT feature"));
        DataViewReader.Validate(schema, new DataViewReader.Request(o.PhFeatureColumnNames, FeatureRole: "PH feature"));
        DataViewReader.Validate(schema, new DataViewReader.Request(o.ShapeFeatureColumnNames, FeatureRole: "shape feature"));
    }

    public static SurvivalTrainingData Read(IDataView data, FlexibleSurvivalTrainer.Options o, CancellationToken cancellation)
    {
        var main = DataViewReader.Read(data, new DataViewReader.Request([o.TimeColumnName], o.EventColumnName, LabelKind.Boolean | LabelKind.Numeric, o.ExampleWeightColumnName, "time"), cancellation);
        var n = main.RowCount;
        var time = main.Features;
        Report(time.Count(t => t <= 0), time.Select((t, i) => (t, i)).FirstOrDefault(p => p.t <= 0), "Time", o.TimeColumnName, "non-positive times", n);

        var label = main.Label!;
        double[] events;
        if (o.EventValue is { } value)
        {
            events = label.Select(v => v == value ? 1.0 : 0.0).ToArray();
        }
        else
        {
            var bad = label.Select((v, i) => (v, i)).Where(p => p.v != 0 && p.v != 1).ToList();
            if (bad.Count > 0)
            {
                throw new ArgumentException($"Event column '{o.EventColumnName}' has values other than 0 and 1 in {bad.Count} of {n} rows (first: {bad[0].v.ToString(CultureInfo.InvariantCulture)} at row {bad[0].i}); " +
                    "set EventValue to the value that means an event.", o.EventColumnName);
            }
            events = label;
        }
        if (events.All(e => e == 0))
        {
            throw new ArgumentException($"Event column '{o.EventColumnName}' has no events in {n} rows; a survival model needs at least one.", o.EventColumnName);
        }

        var entry = new double[n];
        if (o.EntryTimeColumnName is not null)
        {
            entry = DataViewReader.Read(data, new DataViewReader.Request([o.EntryTimeColumnName], FeatureRole: "entry time"), cancellation).Features;
            var late = Enumerable.Range(0, n).Where(i => entry[i] < 0 || entry[i] >= time[i]).ToList();
            if (late.Count > 0)
            {
                throw new ArgumentException($"Entry time column '{o.EntryTimeColumnName}' is negative or not below the time in {late.Count} of {n} rows (first at row {late[0]}: entry {entry[late[0]]}, time {time[late[0]]}).", o.EntryTimeColumnName);
            }
        }

        return new SurvivalTrainingData
        {
            Time = time, Event = events, Entry = entry, Weight = main.Weights ?? Enumerable.Repeat(1.0, n).ToArray(),
            Aft = Covariates(data, o.AftFeatureColumnNames, "AFT feature", cancellation),
            Ph = Covariates(data, o.PhFeatureColumnNames, "PH feature", cancellation),
            Shape = Covariates(data, o.ShapeFeatureColumnNames, "shape feature", cancellation),
        };
    }

    /// <summary>Covariates as a row-major matrix, named "column" or "column[slot]" for vector columns.</summary>
    private static CovariateMatrix Covariates(IDataView data, string[] columns, string role, CancellationToken cancellation)
    {
        if (columns.Length == 0) return new CovariateMatrix([], 0, []);
        var table = DataViewReader.Read(data, new DataViewReader.Request(columns, FeatureRole: role), cancellation);
        var names = table.FeatureSlots.SelectMany(s => s.Width == 1 ? [s.ColumnName] : Enumerable.Range(0, s.Width).Select(k => $"{s.ColumnName}[{k}]")).ToArray();
        return new CovariateMatrix(table.Features, table.FeatureCount, names);
    }

    private static void Report(int count, (double Value, int Row) first, string role, string column, string what, int n)
    {
        if (count > 0) throw new ArgumentException($"{role} column '{column}' has {what} in {count} of {n} rows (first at row {first.Row}: {first.Value.ToString(CultureInfo.InvariantCulture)}).", column);
    }
}

/// <summary>A row-major covariate matrix with its column names.</summary>
internal sealed record CovariateMatrix(double[] Values, int Width, string[] Names)
{
    /// <summary>The covariates of one row (empty when the component has none).</summary>
    public ReadOnlySpan<double> Row(int row) => Values.AsSpan(row * Width, Width);
}
