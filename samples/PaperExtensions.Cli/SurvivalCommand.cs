using System.CommandLine;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions;
using Microsoft.ML.PaperExtensions.Metrics;
using Microsoft.ML.PaperExtensions.Survival;
using Spectre.Console;

namespace PaperExtensions.Cli;

/// <summary><c>mlnet-papers survival</c>: fits the APGW flexible parametric survival model from a CSV file.</summary>
internal static class SurvivalCommand
{
    public static Command Create()
    {
        var data = CliRunner.Required<string>("--data", "CSV file with a header row.");
        var time = CliRunner.Required<string>("--time", "Column of observed times (> 0).");
        var eventColumn = CliRunner.Required<string>("--event", "Event column: 0/1 or true/false, or see --event-value.");
        var eventValue = new Option<double?>("--event-value") { Description = "The --event value that means an event (for example 2 in R's lung data); others are censored." };
        var entry = new Option<string?>("--entry") { Description = "Column of entry times (delayed entry, left truncation)." };
        var ph = new Option<string?>("--ph") { Description = "Comma-separated numeric covariates on the PH scale lambda." };
        var aft = new Option<string?>("--aft") { Description = "Comma-separated numeric covariates on the AFT scale phi." };
        var shape = new Option<string?>("--shape") { Description = "Comma-separated numeric covariates on the power shape gamma." };
        var kappa = new Option<string>("--kappa") { Description = "free, a number (1 = Weibull, 0 = Burr XII), or gompertz.", DefaultValueFactory = _ => "free" };
        var times = new Option<string?>("--times") { Description = "Comma-separated times at which to report survival probabilities." };
        var plot = new Option<string?>("--plot") { Description = "Write fitted survival curves over the Kaplan-Meier curve to this PNG file." };
        var dropMissing = new Option<bool>("--drop-missing") { Description = "Drop rows with an empty field in a used column (the count is reported); otherwise they are an error." };
        var seed = CliRunner.SeedOption();
        var device = CliRunner.DeviceOption();
        var json = CliRunner.JsonOption();
        var command = new Command("survival", "Fit the APGW flexible parametric survival model (Weibull, Burr XII, Gompertz and cure models as special cases).")
        {
            data, time, eventColumn, eventValue, entry, ph, aft, shape, kappa, times, plot, dropMissing, seed, device, json,
        };
        command.SetAction((parse, cancellation) =>
        {
            var progress = new ConsoleProgress();
            var source = CsvSource.Open(parse.GetValue(data)!);
            var list = (Option<string?> option) => parse.GetValue(option) is { } v ? source.Columns(v, option.Name).ToArray() : [];
            var (phColumns, aftColumns, shapeColumns) = (list(ph), list(aft), list(shape));
            source.Column(parse.GetValue(time)!, "--time");
            source.Column(parse.GetValue(eventColumn)!, "--event");
            if (parse.GetValue(entry) is { } entryColumn) source.Column(entryColumn, "--entry");
            var used = new[] { parse.GetValue(time)!, parse.GetValue(eventColumn)! }.Concat(parse.GetValue(entry) is { } e ? [e] : [])
                .Concat(phColumns).Concat(aftColumns).Concat(shapeColumns).Distinct().ToArray();

            var ml = CliRunner.Context(parse.GetValue(seed));
            var view = source.Load(ml, used.Select(c => (c, DataKind.Double)).ToList(), emptyIsMissing: parse.GetValue(dropMissing) ? used : null);
            var dropped = 0L;
            if (parse.GetValue(dropMissing))
            {
                var total = CliRunner.CountRows(view);
                view = ml.Data.FilterRowsByMissingValues(view, used);
                dropped = total - CliRunner.CountRows(view);
                if (dropped > 0) Console.Error.WriteLine($"mlnet-papers: dropped {dropped} of {total} rows with missing values in {string.Join(", ", used)}.");
            }
            var kappaText = parse.GetValue(kappa)!;
            var options = new FlexibleSurvivalTrainer.Options
            {
                TimeColumnName = parse.GetValue(time)!,
                EventColumnName = parse.GetValue(eventColumn)!,
                EventValue = parse.GetValue(eventValue),
                EntryTimeColumnName = parse.GetValue(entry),
                PhFeatureColumnNames = phColumns,
                AftFeatureColumnNames = aftColumns,
                ShapeFeatureColumnNames = shapeColumns,
                GompertzLimit = kappaText == "gompertz",
                Kappa = kappaText is "free" or "gompertz" ? null : double.TryParse(kappaText, NumberStyles.Float, CultureInfo.InvariantCulture, out var k) ? k
                    : throw new ArgumentException($"--kappa must be free, a number or gompertz, but is '{kappaText}'."),
                Times = parse.GetValue(times) is { } t ? t.Split(',').Select(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var at) ? at
                    : throw new FormatException($"--times must be comma-separated numbers, but holds '{v}'.")).ToArray() : [],
                Device = CliRunner.Device(parse, device),
            };
            if (options.AftFeatureColumnNames.Length + options.PhFeatureColumnNames.Length + options.ShapeFeatureColumnNames.Length == 0)
            {
                throw new ArgumentException("Name at least one covariate with --ph, --aft or --shape.");
            }
            using var model = CliRunner.Explained(source, () => ml.Survival().Trainers.FlexibleParametric(options).Fit(view, cancellation, progress));
            var m = model.Model;
            if (parse.GetValue(plot) is { } png) SurvivalPlot.Write(png, model, Rows(view, used), used, options);

            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(new
                {
                    N = m.RowCount,
                    Events = m.Events,
                    DroppedRows = dropped,
                    LogLikelihood = m.LogLikelihood,
                    m.Aic,
                    m.Bic,
                    Kappa = double.IsPositiveInfinity(m.Kappa) ? (double?)null : m.Kappa,
                    m.GompertzLimit,
                    m.Converged,
                    m.AtBoundary,
                    m.Boundary,
                    m.Iterations,
                    Coefficients = m.Coefficients.Select(c => new { c.Parameter, c.Term, c.Estimate, StdError = c.StandardError, c.Z, c.P, c.Fixed }),
                    m.Notes,
                });
                return Task.FromResult(0);
            }
            Console.Out.Write(m.Summary());
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>The used columns row by row, for the plot.</summary>
    private static double[][] Rows(IDataView view, string[] columns)
    {
        var values = columns.Select(c => view.GetColumn<double>(c).ToArray()).ToArray();
        return Enumerable.Range(0, values[0].Length).Select(i => values.Select(v => v[i]).ToArray()).ToArray();
    }
}
