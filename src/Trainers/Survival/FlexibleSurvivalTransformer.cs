using Microsoft.ML.PaperExtensions.Metrics;
using Microsoft.ML.PaperExtensions.Onnx;
using Onnx;
using static Microsoft.ML.PaperExtensions.Onnx.OnnxGraphBuilder;

namespace Microsoft.ML.PaperExtensions.Survival;

/// <summary>
/// A fitted flexible parametric survival model as an ML.NET transformer; the prediction runs as an ONNX graph.
/// </summary>
/// <remarks>
/// <para>Input: the covariate columns it was fitted on.</para>
/// <para>Output columns:</para>
/// <list type="table">
/// <item><term>SurvivalProbability, Hazard, CumulativeHazard</term><description>Vectors of Single at the option's <c>Times</c> (only when Times are given).</description></item>
/// <item><term>MedianSurvivalTime</term><description>Single; +infinity when the cure fraction is at least 1/2.</description></item>
/// <item><term>SurvivalQuantiles</term><description>Vector of Single at the option's <c>Quantiles</c> (only when given).</description></item>
/// <item><term>CureFraction</term><description>Single: S(infinity), 0 unless kappa &lt; 0.</description></item>
/// <item><term>Score</term><description>Single: the median survival time, so that ML.NET's regression evaluator runs.</description></item>
/// <item><term>ApgwParameters</term><description>Vector of 4 Double: log phi, log lambda, log gamma and kappa of the row's distribution, which <c>mlContext.Survival().Evaluate</c> reads.</description></item>
/// </list>
/// </remarks>
public sealed class FlexibleSurvivalTransformer : OnnxBackedTransformer
{
    /// <summary>Column names of the outputs.</summary>
    public const string SurvivalProbabilityColumnName = "SurvivalProbability", HazardColumnName = "Hazard", CumulativeHazardColumnName = "CumulativeHazard",
        MedianColumnName = "MedianSurvivalTime", QuantilesColumnName = "SurvivalQuantiles", CureFractionColumnName = "CureFraction",
        ParametersColumnName = SurvivalEvaluator.ParametersColumnName;

    internal FlexibleSurvivalTransformer(MLContext mlContext, FlexibleSurvivalModel model, DataViewSchema inputSchema, SurvivalSettings settings)
        : base(mlContext, BuildGraph(model, settings, inputSchema), inputSchema, Outputs(settings.Times.Length > 0, settings.Quantiles.Length > 0))
    {
        Model = model;
        Times = settings.Times.ToArray();
        Quantiles = settings.Quantiles.ToArray();
        AftFeatureColumnNames = settings.AftFeatures.ToArray();
        PhFeatureColumnNames = settings.PhFeatures.ToArray();
        ShapeFeatureColumnNames = settings.ShapeFeatures.ToArray();
    }

    /// <summary>The fitted model: coefficients, standard errors, fit statistics, and the managed prediction math.</summary>
    public FlexibleSurvivalModel Model { get; }

    /// <summary>The prediction times.</summary>
    public IReadOnlyList<double> Times { get; }

    /// <summary>The predicted quantile probabilities.</summary>
    public IReadOnlyList<double> Quantiles { get; }

    /// <summary>Covariate columns of each set.</summary>
    public IReadOnlyList<string> AftFeatureColumnNames { get; }

    /// <inheritdoc cref="AftFeatureColumnNames"/>
    public IReadOnlyList<string> PhFeatureColumnNames { get; }

    /// <inheritdoc cref="AftFeatureColumnNames"/>
    public IReadOnlyList<string> ShapeFeatureColumnNames { get; }

    /// <summary>The columns the model adds, in the graph's order.</summary>
    internal static IReadOnlyList<PredictionColumn> Outputs(bool hasTimes, bool hasQuantiles)
    {
        var columns = new List<PredictionColumn>();
        if (hasTimes)
        {
            columns.Add(PredictionColumn.Vector(SurvivalProbabilityColumnName));
            columns.Add(PredictionColumn.Vector(HazardColumnName));
            columns.Add(PredictionColumn.Vector(CumulativeHazardColumnName));
        }
        columns.Add(PredictionColumn.Scalar(MedianColumnName));
        if (hasQuantiles) columns.Add(PredictionColumn.Vector(QuantilesColumnName));
        columns.Add(PredictionColumn.Scalar(CureFractionColumnName));
        columns.Add(PredictionColumn.Scalar(ColumnNames.Score));
        columns.Add(PredictionColumn.Vector(ParametersColumnName, isDouble: true));
        return columns;
    }

    private static ModelProto BuildGraph(FlexibleSurvivalModel model, SurvivalSettings options, DataViewSchema schema)
    {
        var g = new OnnxGraphBuilder("apgw_survival");
        ModelDetails.Write(g, nameof(FlexibleSurvivalModel), model.ToDetails());
        var inputs = new Dictionary<string, string>();
        string Input(string column) => inputs.TryGetValue(column, out var v) ? v : inputs[column] = g.AddColumnInput(column, schema[column].Type, OnnxElementType.Double);
        var coefficients = model.Coefficients;
        string Predictor(string parameter, string[] columns)
        {
            var rows = coefficients.Where(c => c.Parameter == parameter).ToArray();
            var intercept = g.AddInitializer(g.NewName(parameter + "_intercept"), [rows[0].Estimate], 1);
            if (columns.Length == 0)
            {
                // [N, 1] zeros from any input would need an input; a model without covariates has a constant predictor.
                return intercept;
            }
            var x = columns.Length == 1 ? Input(columns[0]) : g.AddNode("Concat", columns.Select(c => Input(c)).ToArray(), null, Attribute("axis", 1L));
            var slopes = rows.Skip(1).Select(c => c.Estimate).ToArray();
            return g.AddNode("Add", [g.AddNode("MatMul", [x, g.AddInitializer(g.NewName(parameter + "_slopes"), slopes, slopes.Length, 1)]), intercept]); // [N, 1]
        }
        var anyColumn = options.AftFeatures.Concat(options.PhFeatures).Concat(options.ShapeFeatures).FirstOrDefault()
            ?? throw new ArgumentException("A model without covariates has no input column; give at least one covariate.");
        var ones = g.AddNode("Add", [g.AddNode("Mul", [g.Columns(Input(anyColumn), 0, 1), g.Const(0)]), g.Const(1)]); // [N, 1]
        var logPhi = g.AddNode("Mul", [ones, Predictor("phi", options.AftFeatures)]);
        var logLambda = g.AddNode("Mul", [ones, Predictor("lambda", options.PhFeatures)]);
        var logGamma = g.AddNode("Mul", [ones, Predictor("gamma", options.ShapeFeatures)]);
        var gamma = g.AddNode("Exp", [logGamma]);
        var lambda = g.AddNode("Exp", [logLambda]);
        var kappa = model.Kappa;

        if (options.Times.Length > 0)
        {
            var logT = g.AddInitializer("log_times", options.Times.Select(t => Math.Log(t)).ToArray(), 1, options.Times.Length);
            var logZ = g.AddNode("Mul", [gamma, g.AddNode("Add", [logPhi, logT])]);                    // [N, T]
            var z = g.AddNode("Exp", [logZ]);
            var (logH0, cumulative0) = Baseline(g, z, kappa);
            var cumulative = g.AddNode("Mul", [lambda, cumulative0]);
            var logHazard = g.AddNode("Add", [g.AddNode("Add", [g.AddNode("Add", [logLambda, logGamma]), g.AddNode("Sub", [logZ, logT])]), logH0]);
            g.AddNode("Cast", [g.AddNode("Exp", [g.AddNode("Neg", [cumulative])])], SurvivalProbabilityColumnName, Attribute("to", (long)OnnxElementType.Float));
            g.AddNode("Cast", [g.AddNode("Exp", [logHazard])], HazardColumnName, Attribute("to", (long)OnnxElementType.Float));
            g.AddNode("Cast", [cumulative], CumulativeHazardColumnName, Attribute("to", (long)OnnxElementType.Float));
        }

        var probabilities = new[] { 0.5 }.Concat(options.Quantiles).ToArray();
        var minusLog = g.AddInitializer("minus_log_1mp", probabilities.Select(p => -Math.Log(1 - p)).ToArray(), 1, probabilities.Length);
        var y = g.AddNode("Div", [minusLog, lambda]);                                                   // [N, 1 + Q]
        var inner = H0Inverse(g, y, kappa);
        var quantiles = g.AddNode("Exp", [g.AddNode("Sub", [g.AddNode("Div", [g.AddNode("Log", [inner]), gamma]), logPhi])]);
        var median = g.Flatten(g.Columns(quantiles, 0, 1));
        g.AddNode("Cast", [median], MedianColumnName, Attribute("to", (long)OnnxElementType.Float));
        g.AddNode("Cast", [median], ColumnNames.Score, Attribute("to", (long)OnnxElementType.Float));
        if (options.Quantiles.Length > 0)
        {
            g.AddNode("Cast", [g.Columns(quantiles, 1, probabilities.Length)], QuantilesColumnName, Attribute("to", (long)OnnxElementType.Float));
        }
        var cure = kappa < 0
            ? g.AddNode("Exp", [g.AddNode("Mul", [lambda, g.Const(-(1 + kappa) / -kappa)])])
            : g.AddNode("Mul", [lambda, g.Const(0)]);
        g.AddNode("Cast", [g.Flatten(cure)], CureFractionColumnName, Attribute("to", (long)OnnxElementType.Float));
        var kappaColumn = g.AddNode("Mul", [ones, g.Const(kappa)]);
        g.AddNode("Concat", [logPhi, logLambda, logGamma, kappaColumn], ParametersColumnName, Attribute("axis", 1L));
        foreach (var column in Outputs(options.Times.Length > 0, options.Quantiles.Length > 0))
        {
            var width = column.Name switch
            {
                QuantilesColumnName => options.Quantiles.Length,
                ParametersColumnName => 4,
                _ => options.Times.Length,
            };
            g.AddOutput(column, width);
        }
        return g.Build();
    }

    /// <summary>log h0(z) and H0(z) for a fixed kappa, with the small-argument series of ApgwDistribution.</summary>
    private static (string LogHazard, string Cumulative) Baseline(OnnxGraphBuilder g, string z, double kappa)
    {
        if (kappa == 1)
        {
            return (g.AddNode("Mul", [z, g.Const(0)]), z); // the Weibull: h0 = 1, H0(z) = z
        }
        if (double.IsPositiveInfinity(kappa))
        {
            return (z, g.Expm1(z));
        }
        var l = g.Log1p(g.AddNode("Div", [z, g.Const(kappa + 1)]));
        var x = g.AddNode("Mul", [l, g.Const(kappa)]);
        var series = g.AddNode("Mul", [l, g.Polynomial(x, [1, 1.0 / 2, 1.0 / 6, 1.0 / 24])]);
        var e = Math.Abs(kappa) < 1e-6
            ? series
            : g.AddNode("Where", [g.AddNode("Less", [g.AddNode("Abs", [x]), g.Const(1e-4)]), series, g.AddNode("Div", [g.Expm1(x), g.Const(kappa)])]);
        return (g.AddNode("Mul", [l, g.Const(kappa - 1)]), g.AddNode("Mul", [e, g.Const(kappa + 1)]));
    }

    /// <summary>H0^-1(y; kappa), +infinity beyond the cure limit.</summary>
    private static string H0Inverse(OnnxGraphBuilder g, string y, double kappa)
    {
        if (double.IsPositiveInfinity(kappa)) return g.Log1p(y);
        if (kappa == 0) return g.Expm1(y);
        if (kappa == 1) return y; // the Weibull: H0(z) = z
        var u = g.AddNode("Mul", [y, g.Const(kappa / (kappa + 1))]);
        var series = g.AddNode("Mul", [g.AddNode("Div", [y, g.Const(kappa + 1)]), g.Polynomial(u, [1, -1.0 / 2, 1.0 / 3])]);
        var direct = g.AddNode("Div", [g.AddNode("Log", [g.AddNode("Add", [u, g.Const(1)])]), g.Const(kappa)]);
        var exponent = g.AddNode("Where", [g.AddNode("Less", [g.AddNode("Abs", [u]), g.Const(1e-4)]), series, direct]);
        var inner = g.AddNode("Mul", [g.Expm1(exponent), g.Const(kappa + 1)]);
        return kappa > 0 ? inner : g.AddNode("Where", [g.AddNode("LessOrEqual", [u, g.Const(-1)]), g.Const(double.PositiveInfinity), inner]);
    }
}
