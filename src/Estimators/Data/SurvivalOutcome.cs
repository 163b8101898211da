using System.Globalization;

namespace Microsoft.ML.PaperExtensions.Data;

/// <summary>
/// The outcome columns of survival data, read and checked: times &gt; 0, events 0/1 (or an event value), entry times
/// below the times, non-negative weights. The survival trainer and the survival evaluator read them the same way.
/// </summary>
internal sealed class SurvivalOutcome
{
    public required double[] Time { get; init; }

    /// <summary>1 for an event, 0 for censoring.</summary>
    public required double[] Event { get; init; }

    /// <summary>Entry times, 0 without truncation.</summary>
    public required double[] Entry { get; init; }

    public required double[] Weight { get; init; }

    public int RowCount => Time.Length;

    /// <summary>The names of the outcome columns and the options that name them.</summary>
    internal sealed record Columns(string Time, string Event, double? EventValue, string? Entry, string? Weight,
        string TimeOption = "TimeColumnName", string EventOption = "EventColumnName", string EntryOption = "EntryTimeColumnName", string WeightOption = "ExampleWeightColumnName")
    {
        /// <summary>The column rules of the outcome, for an estimator's or evaluator's <see cref="InputColumns"/>.</summary>
        public InputColumns Declare(InputColumns columns) => columns
            .Add("time", TimeOption, Time, ColumnTypes.SingleOrDouble)
            .Add("event", EventOption, Event, ColumnTypes.Boolean | ColumnTypes.Number, "a Boolean or numeric scalar")
            .Add("entry time", EntryOption, Entry, ColumnTypes.SingleOrDouble, optional: true)
            .Weight(WeightOption, Weight);
    }

    public static SurvivalOutcome Read(IDataView data, Columns c, CancellationToken cancellation)
    {
        var main = DataViewReader.Read(data, new DataViewReader.Request([c.Time], c.Event, c.Weight, "time", FeatureOption: c.TimeOption, LabelOption: c.EventOption, WeightOption: c.WeightOption), cancellation);
        var n = main.RowCount;
        var time = main.Features;
        var bad = Array.FindIndex(time, t => t <= 0);
        if (bad >= 0)
        {
            throw new ArgumentException($"Time column '{c.Time}' has non-positive times in {time.Count(t => t <= 0)} of {n} rows (first at row {bad}: {time[bad].ToString(CultureInfo.InvariantCulture)}).", c.TimeOption);
        }

        var label = main.Label!;
        double[] events;
        if (c.EventValue is { } value)
        {
            events = label.Select(v => v == value ? 1.0 : 0.0).ToArray();
        }
        else
        {
            var other = Array.FindIndex(label, v => v != 0 && v != 1);
            if (other >= 0)
            {
                throw new ArgumentException($"Event column '{c.Event}' has values other than 0 and 1 in {label.Count(v => v != 0 && v != 1)} of {n} rows (first: {label[other].ToString(CultureInfo.InvariantCulture)} at row {other}); " +
                    "set EventValue to the value that means an event.", c.EventOption);
            }
            events = label;
        }
        if (events.All(e => e == 0))
        {
            throw new ArgumentException($"Event column '{c.Event}' has no events in {n} rows; a survival model needs at least one.", c.EventOption);
        }

        var entry = new double[n];
        if (c.Entry is not null)
        {
            entry = DataViewReader.Read(data, new DataViewReader.Request([c.Entry], FeatureRole: "entry time", FeatureOption: c.EntryOption), cancellation).Features;
            var late = Enumerable.Range(0, n).Where(i => entry[i] < 0 || entry[i] >= time[i]).ToList();
            if (late.Count > 0)
            {
                throw new ArgumentException($"Entry time column '{c.Entry}' is negative or not below the time in {late.Count} of {n} rows (first at row {late[0]}: entry {entry[late[0]]}, time {time[late[0]]}).", c.EntryOption);
            }
        }
        return new SurvivalOutcome { Time = time, Event = events, Entry = entry, Weight = main.Weights ?? Enumerable.Repeat(1.0, n).ToArray() };
    }
}
