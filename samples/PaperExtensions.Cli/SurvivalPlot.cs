using System.Globalization;
using Microsoft.ML.PaperExtensions.Metrics;
using Microsoft.ML.PaperExtensions.Survival;
using ScottPlot;

namespace PaperExtensions.Cli;

/// <summary>
/// Fitted survival curves over Kaplan-Meier curves: one pair per covariate pattern when there are at most six patterns
/// (for example treatment groups), else one fitted curve at the covariate means over the overall Kaplan-Meier curve.
/// </summary>
internal static class SurvivalPlot
{
    private const int MaxPatterns = 6;

    public static void Write(string path, FlexibleSurvivalTransformer model, double[][] rows, string[] columns, FlexibleSurvivalTrainer.Options options)
    {
        int Index(string c) => Array.IndexOf(columns, c);
        var covariates = options.AftFeatureColumnNames.Concat(options.PhFeatureColumnNames).Concat(options.ShapeFeatureColumnNames).Distinct().ToArray();
        var time = rows.Select(r => r[Index(options.TimeColumnName)]).ToArray();
        var isEvent = rows.Select(r => options.EventValue is { } v ? r[Index(options.EventColumnName)] == v : r[Index(options.EventColumnName)] == 1).ToArray();
        var patterns = rows.Select((r, i) => (Key: string.Join(", ", covariates.Select(c => $"{c} = {r[Index(c)].ToString("G4", CultureInfo.InvariantCulture)}")), Row: i))
            .GroupBy(p => p.Key).ToList();

        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var end = time.Max();
        var grid = Enumerable.Range(1, 200).Select(k => end * k / 200).ToArray();
        var groups = patterns.Count <= MaxPatterns
            ? patterns.Select(p => (Label: p.Key, Rows: p.Select(x => x.Row).ToArray(), Values: rows[p.First().Row]))
            : [("covariate means", Enumerable.Range(0, rows.Length).ToArray(), columns.Select((_, j) => rows.Average(r => r[j])).ToArray())];
        var color = 0;
        foreach (var (label, members, values) in groups)
        {
            var c = palette.GetColor(color++);
            var km = KaplanMeier.Fit(members.Select(i => time[i]).ToArray(), members.Select(i => isEvent[i]).ToArray());
            var steps = plot.Add.Scatter(km.Times.Prepend(0).Append(end).ToArray(), km.Survival.Prepend(1).Append(km.Survival.LastOrDefault(1)).ToArray());
            steps.ConnectStyle = ConnectStyle.StepHorizontal;
            steps.MarkerSize = 0;
            steps.Color = c.WithAlpha(0.5);
            steps.LegendText = $"Kaplan-Meier, {label}";
            double[] Pick(string[] names) => names.Select(n => values[Index(n)]).ToArray();
            var d = model.Model.Distribution(Pick(options.AftFeatureColumnNames), Pick(options.PhFeatureColumnNames), Pick(options.ShapeFeatureColumnNames));
            var fitted = plot.Add.ScatterLine(grid.Prepend(0).ToArray(), grid.Select(d.Survival).Prepend(1).ToArray());
            fitted.Color = c;
            fitted.LineWidth = 2;
            fitted.LegendText = $"APGW fit, {label}";
        }
        plot.Title($"Survival: APGW fit (kappa = {model.Model.Kappa.ToString("G3", CultureInfo.InvariantCulture)}) over Kaplan-Meier");
        plot.XLabel(options.TimeColumnName);
        plot.YLabel("survival probability");
        plot.Axes.SetLimitsY(0, 1.02);
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 900, 560);
    }
}
