using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;
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
/// </list>
/// </remarks>
public sealed class FlexibleSurvivalTransformer : OnnxBackedTransformer
{
    /// <summary>Column names of the outputs.</summary>
    public const string SurvivalProbabilityColumnName = "SurvivalProbability", HazardColumnName = "Hazard", CumulativeHazardColumnName = "CumulativeHazard",
        MedianColumnName = "MedianSurvivalTime", QuantilesColumnName = "SurvivalQuantiles", CureFractionColumnName = "CureFraction";

    internal FlexibleSurvivalTransformer(MLContext mlContext, FlexibleSurvivalModel model, DataViewSchema inputSchema, FlexibleSurvivalTrainer.Options options)
        : base(mlContext, BuildGraph(model, options, inputSchema), inputSchema)
    {
        Model = model;
        Times = options.Times.ToArray();
        Quantiles = options.Quantiles.ToArray();
        AftFeatureColumnNames = options.AftFeatureColumnNames.ToArray();
        PhFeatureColumnNames = options.PhFeatureColumnNames.ToArray();
        ShapeFeatureColumnNames = options.ShapeFeatureColumnNames.ToArray();
        TrainingOptions = options;
    }

    /// <summary>The options the model was fitted with (the evaluator reads the same time, event and entry columns).</summary>
    internal FlexibleSurvivalTrainer.Options TrainingOptions { get; }

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

    internal static SchemaShape OutputShape(SchemaShape input, FlexibleSurvivalTrainer.Options options)
    {
        var columns = new List<SchemaShape.Column>();
        if (options.Times.Length > 0)
        {
            columns.Add(SchemaShapes.Vector(SurvivalProbabilityColumnName, NumberDataViewType.Single));
            columns.Add(SchemaShapes.Vector(HazardColumnName, NumberDataViewType.Single));
            columns.Add(SchemaShapes.Vector(CumulativeHazardColumnName, NumberDataViewType.Single));
        }
        columns.Add(SchemaShapes.Scalar(MedianColumnName, NumberDataViewType.Single));
        if (options.Quantiles.Length > 0) columns.Add(SchemaShapes.Vector(QuantilesColumnName, NumberDataViewType.Single));
        columns.Add(SchemaShapes.Scalar(CureFractionColumnName, NumberDataViewType.Single));
        columns.Add(SchemaShapes.Scalar(ColumnNames.Score, NumberDataViewType.Single));
        return SchemaShapes.With(input, [.. columns]);
    }

    private static ModelProto BuildGraph(FlexibleSurvivalModel model, FlexibleSurvivalTrainer.Options options, DataViewSchema schema)
    {
        var g = new OnnxGraphBuilder("apgw_survival");
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
        var anyColumn = options.AftFeatureColumnNames.Concat(options.PhFeatureColumnNames).Concat(options.ShapeFeatureColumnNames).FirstOrDefault()
            ?? throw new ArgumentException("A model without covariates has no input column; give at least one covariate.");
        var ones = g.AddNode("Add", [g.AddNode("Mul", [Slice(g, Input(anyColumn)), Const(g, 0)]), Const(g, 1)]); // [N, 1]
        var logPhi = g.AddNode("Mul", [ones, Predictor("phi", options.AftFeatureColumnNames)]);
        var logLambda = g.AddNode("Mul", [ones, Predictor("lambda", options.PhFeatureColumnNames)]);
        var logGamma = g.AddNode("Mul", [ones, Predictor("gamma", options.ShapeFeatureColumnNames)]);
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
            g.AddOutput(SurvivalProbabilityColumnName, OnnxElementType.Float, Batch, options.Times.Length);
            g.AddOutput(HazardColumnName, OnnxElementType.Float, Batch, options.Times.Length);
            g.AddOutput(CumulativeHazardColumnName, OnnxElementType.Float, Batch, options.Times.Length);
        }

        var probabilities = new[] { 0.5 }.Concat(options.Quantiles).ToArray();
        var minusLog = g.AddInitializer("minus_log_1mp", probabilities.Select(p => -Math.Log(1 - p)).ToArray(), 1, probabilities.Length);
        var y = g.AddNode("Div", [minusLog, lambda]);                                                   // [N, 1 + Q]
        var inner = H0Inverse(g, y, kappa);
        var quantiles = g.AddNode("Exp", [g.AddNode("Sub", [g.AddNode("Div", [g.AddNode("Log", [inner]), gamma]), logPhi])]);
        var median = g.AddNode("Reshape", [Columns(g, quantiles, 0, 1), g.AddInitializer("flat", [-1L], 1)]);
        g.AddNode("Cast", [median], MedianColumnName, Attribute("to", (long)OnnxElementType.Float));
        g.AddNode("Cast", [median], ColumnNames.Score, Attribute("to", (long)OnnxElementType.Float));
        if (options.Quantiles.Length > 0)
        {
            g.AddNode("Cast", [Columns(g, quantiles, 1, probabilities.Length)], QuantilesColumnName, Attribute("to", (long)OnnxElementType.Float));
            g.AddOutput(QuantilesColumnName, OnnxElementType.Float, Batch, options.Quantiles.Length);
        }
        var cure = kappa < 0
            ? g.AddNode("Exp", [g.AddNode("Mul", [lambda, Const(g, -(1 + kappa) / -kappa)])])
            : g.AddNode("Mul", [lambda, Const(g, 0)]);
        g.AddNode("Cast", [g.AddNode("Reshape", [cure, g.AddInitializer("flat_cure", [-1L], 1)])], CureFractionColumnName, Attribute("to", (long)OnnxElementType.Float));
        g.AddOutput(MedianColumnName, OnnxElementType.Float, Batch);
        g.AddOutput(CureFractionColumnName, OnnxElementType.Float, Batch);
        g.AddOutput(ColumnNames.Score, OnnxElementType.Float, Batch);
        return g.Build();
    }

    /// <summary>log h0(z) and H0(z) for a fixed kappa, with the small-argument series of ApgwDistribution.</summary>
    private static (string LogHazard, string Cumulative) Baseline(OnnxGraphBuilder g, string z, double kappa)
    {
        if (double.IsPositiveInfinity(kappa))
        {
            return (z, Expm1(g, z));
        }
        var l = Log1p(g, g.AddNode("Div", [z, Const(g, kappa + 1)]));
        var x = g.AddNode("Mul", [l, Const(g, kappa)]);
        var series = g.AddNode("Mul", [l, Polynomial(g, x, [1, 1.0 / 2, 1.0 / 6, 1.0 / 24])]);
        var e = Math.Abs(kappa) < 1e-6
            ? series
            : g.AddNode("Where", [g.AddNode("Less", [g.AddNode("Abs", [x]), Const(g, 1e-4)]), series, g.AddNode("Div", [Expm1(g, x), Const(g, kappa)])]);
        return (g.AddNode("Mul", [l, Const(g, kappa - 1)]), g.AddNode("Mul", [e, Const(g, kappa + 1)]));
    }

    /// <summary>H0^-1(y; kappa), +infinity beyond the cure limit.</summary>
    private static string H0Inverse(OnnxGraphBuilder g, string y, double kappa)
    {
        if (double.IsPositiveInfinity(kappa)) return Log1p(g, y);
        if (kappa == 0) return Expm1(g, y);
        var u = g.AddNode("Mul", [y, Const(g, kappa / (kappa + 1))]);
        var series = g.AddNode("Mul", [g.AddNode("Div", [y, Const(g, kappa + 1)]), Polynomial(g, u, [1, -1.0 / 2, 1.0 / 3])]);
        var direct = g.AddNode("Div", [g.AddNode("Log", [g.AddNode("Add", [u, Const(g, 1)])]), Const(g, kappa)]);
        var exponent = g.AddNode("Where", [g.AddNode("Less", [g.AddNode("Abs", [u]), Const(g, 1e-4)]), series, direct]);
        var inner = g.AddNode("Mul", [Expm1(g, exponent), Const(g, kappa + 1)]);
        return kappa > 0 ? inner : g.AddNode("Where", [g.AddNode("LessOrEqual", [u, Const(g, -1)]), Const(g, double.PositiveInfinity), inner]);
    }

    /// <summary>log(1 + x) with its series below 1e-4 (ONNX has no Log1p).</summary>
    private static string Log1p(OnnxGraphBuilder g, string x) =>
        g.AddNode("Where", [g.AddNode("Less", [g.AddNode("Abs", [x]), Const(g, 1e-4)]),
            g.AddNode("Mul", [x, Polynomial(g, x, [1, -1.0 / 2, 1.0 / 3, -1.0 / 4])]),
            g.AddNode("Log", [g.AddNode("Add", [x, Const(g, 1)])])]);

    /// <summary>exp(x) - 1 with its series below 1e-5 (ONNX has no Expm1).</summary>
    private static string Expm1(OnnxGraphBuilder g, string x) =>
        g.AddNode("Where", [g.AddNode("Less", [g.AddNode("Abs", [x]), Const(g, 1e-5)]),
            g.AddNode("Mul", [x, Polynomial(g, x, [1, 1.0 / 2, 1.0 / 6])]),
            g.AddNode("Sub", [g.AddNode("Exp", [x]), Const(g, 1)])]);

    /// <summary>c0 + c1 x + c2 x^2 + ... by Horner's rule.</summary>
    private static string Polynomial(OnnxGraphBuilder g, string x, double[] c)
    {
        var value = Const(g, c[^1]);
        for (var i = c.Length - 2; i >= 0; i--) value = g.AddNode("Add", [g.AddNode("Mul", [value, x]), Const(g, c[i])]);
        return value;
    }

    private static string Const(OnnxGraphBuilder g, double value) => g.AddInitializer(g.NewName("c"), [value], 1);

    private static string Slice(OnnxGraphBuilder g, string value) => Columns(g, value, 0, 1);

    private static string Columns(OnnxGraphBuilder g, string value, long from, long to) =>
        g.AddNode("Slice", [value, g.AddInitializer(g.NewName("start"), [from], 1), g.AddInitializer(g.NewName("end"), [to], 1), g.AddInitializer(g.NewName("axes"), [1L], 1)]);
}
