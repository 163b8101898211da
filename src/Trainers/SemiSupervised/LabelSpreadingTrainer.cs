using Microsoft.ML.PaperExtensions.Data;
using Microsoft.ML.PaperExtensions.Onnx;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.SearchSpace;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.SemiSupervised;

/// <summary>
/// Label spreading (Zhou, Bousquet, Lal, Weston and Schölkopf, "Learning with local and global consistency", NIPS 2004),
/// as scikit-learn's <c>LabelSpreading</c> computes it: the labelled rows' classes spread over a kNN (or RBF) graph of all
/// rows with the symmetrically normalised graph, F = alpha S F + (1 - alpha) Y, until the change is below the tolerance.
/// </summary>
/// <remarks>
/// <para>Input columns: the label (a key column, with the missing key for unlabelled rows; a Single or Double column, NaN =
/// unlabelled; or a text column, empty = unlabelled) and the features (Single or Double, scalar or known-size vector, no NaN).
/// The known classes are those present among the labelled rows.</para>
/// <para>Output columns: see <see cref="LabelSpreadingTransformer"/> (<c>Score</c>, <c>PredictedLabel</c>,
/// <c>KnownClassConfidence</c>); ML.NET's multiclass evaluator runs on them.</para>
/// <list type="table">
/// <listheader><term>Trainer characteristics</term><description></description></listheader>
/// <item><term>Machine learning task</term><description>Semi-supervised multiclass classification (transductive graph method with inductive prediction through neighbours)</description></item>
/// <item><term>Is normalization required?</term><description>No: features are standardised internally by default (<see cref="Options.StandardizeFeatures"/>), and the mapping is part of the model.</description></item>
/// <item><term>Is caching required?</term><description>No: the data are read once.</description></item>
/// <item><term>Complexity</term><description>kNN: exact neighbour search in blocks, O(n^2 p) time, O(n k) memory for the graph (never an n x n matrix), O(n k K) per iteration. RBF: O(iterations x n^2 p) time, O(block x n) memory.</description></item>
/// <item><term>Required NuGet in addition to Microsoft.ML</term><description>Microsoft.ML.PaperExtensions.Trainers, and a TorchSharp native package (TorchSharp-cpu) in the application.</description></item>
/// </list>
/// <para>The algorithm has no randomness; rows are put in a canonical order (by a hash of their content) first, so ties
/// between equally distant neighbours are broken the same way whatever the input row order.</para>
/// </remarks>
public sealed class LabelSpreadingTrainer : PaperTrainerBase<LabelSpreadingTransformer>
{
    /// <summary>Options of <see cref="LabelSpreadingTrainer"/>.</summary>
    public sealed class Options
    {
        /// <summary>The label column: key (missing key = unlabelled), Single/Double (NaN = unlabelled) or text (empty = unlabelled).</summary>
        public string LabelColumnName { get; set; } = ColumnNames.Label;

        /// <summary>The feature column: Single or Double, scalar or known-size vector.</summary>
        public string FeatureColumnName { get; set; } = ColumnNames.Features;

        /// <summary>The graph: kNN connectivity (default, sparse) or the full RBF kernel.</summary>
        public LabelSpreadingKernel Kernel { get; set; } = LabelSpreadingKernel.Knn;

        /// <summary>k of the kNN graph, the row itself included (scikit-learn's <c>n_neighbors</c>); also the neighbours a new row is predicted from.</summary>
        [Range(2, 50, 7, true)]
        public int NumberOfNeighbors { get; set; } = 7;

        /// <summary>The RBF kernel's gamma on the (scaled) features; null = 1 / (p x mean feature variance), which is 1/p on standardised features.</summary>
        public double? Gamma { get; set; }

        /// <summary>
        /// Label propagation instead of label spreading (Zhu and Ghahramani, 2002; scikit-learn's <c>LabelPropagation</c>):
        /// each iteration every row takes the normalised sum of its neighbours' distributions (itself included) and the
        /// labelled rows are reset to their labels, so they keep them exactly. <see cref="Alpha"/> is not used. It converges
        /// more slowly than spreading: give it more iterations (<c>LabelPropagation(...)</c> in the catalog sets 1,000, as
        /// scikit-learn does).
        /// </summary>
        public bool HardClamping { get; set; }

        /// <summary>alpha in (0, 1): the share of a row's new distribution that comes from its neighbours (the rest is its initial label).</summary>
        [Range(0.01, 0.99, 0.2, false)]
        public double Alpha { get; set; } = 0.2;

        /// <summary>The most spreading iterations (scikit-learn's <c>max_iter</c>).</summary>
        [Range(5, 1000, 30, true)]
        public int MaximumNumberOfIterations { get; set; } = 30;

        /// <summary>Iterations stop once the summed absolute change of the label matrix is below this (scikit-learn's <c>tol</c>).</summary>
        public double Tolerance { get; set; } = 1e-3;

        /// <summary>Whether features are standardised (mean and population SD over all rows) before distances; false compares raw values, as scikit-learn does.</summary>
        [BooleanChoice(true)]
        public bool StandardizeFeatures { get; set; } = true;

        /// <summary>
        /// When set, a row whose <c>KnownClassConfidence</c> (its largest class probability) is below this is predicted as
        /// unknown: the missing key (0) in <c>PredictedLabel</c>, which evaluators count as unpredicted. null = never.
        /// </summary>
        public double? UnknownThreshold { get; set; }

        /// <summary>Where the tensor work runs.</summary>
        public ComputeDevice Device { get; set; } = ComputeDevice.Auto;
    }

    private readonly Options _options;

    internal LabelSpreadingTrainer(MLContext mlContext, Options options) : base(mlContext)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckOptions(options);
        _options = options;
    }

    private protected override InputColumns InputColumns => SemiSupervisedData.Inputs(_options.LabelColumnName, _options.FeatureColumnName);

    private protected override IReadOnlyList<PredictionColumn> OutputColumns => LabelSpreadingTransformer.Outputs;

    private protected override (ComputeDevice Device, int? Seed) Runtime => (_options.Device, 0);

    private protected override LabelSpreadingTransformer FitCore(IDataView input, TrainingContext context)
    {
        var o = _options;
        CheckOptions(o);
        var data = SemiSupervisedData.Read(input, o.LabelColumnName, o.FeatureColumnName, context.CancellationToken, o.StandardizeFeatures);
        var n = data.RowCount;
        var p = data.FeatureCount;
        var k = Math.Min(o.NumberOfNeighbors, n);
        var notes = new List<string>();
        if (data.ConstantFeatures > 0) notes.Add($"{data.ConstantFeatures} of {p} features are constant over all rows and carry no information.");
        if (k < o.NumberOfNeighbors) notes.Add($"NumberOfNeighbors {o.NumberOfNeighbors} is more than the {n} rows: {k} were used.");

        var x = tensor(Array.ConvertAll(data.Features, v => (double)v), [n, p], ScalarType.Float64, context.Device);
        var y = LabelSpreadingGraph.OneHot(data.Classes, data.ClassCount, context.Device);
        using var labelled = o.HardClamping ? tensor(Array.ConvertAll(data.Classes, c => c >= 0), [n, 1], ScalarType.Bool, context.Device) : null;
        var gamma = double.NaN;
        SpreadResult result;
        using (context.Threads((long)n * n * p))
        {
            if (o.Kernel == LabelSpreadingKernel.Knn)
            {
                using var neighbours = LabelSpreadingGraph.NearestNeighbours(x, k, context.CancellationToken);
                result = labelled is null
                    ? LabelSpreadingGraph.SpreadKnn(neighbours, y, o.Alpha, o.MaximumNumberOfIterations, o.Tolerance, context.CancellationToken)
                    : LabelSpreadingGraph.PropagateKnn(neighbours, y, labelled, o.MaximumNumberOfIterations, o.Tolerance, context.CancellationToken);
            }
            else
            {
                gamma = o.Gamma ?? 1 / Math.Max(1e-12, x.var(0, unbiased: false).sum().item<double>());
                result = LabelSpreadingGraph.SpreadRbf(x, gamma, y, o.Alpha, labelled, o.MaximumNumberOfIterations, o.Tolerance, context.CancellationToken);
            }
        }
        if (!result.Converged)
        {
            notes.Add($"{(o.HardClamping ? "Label propagation" : "Label spreading")} stopped after MaximumNumberOfIterations = {o.MaximumNumberOfIterations} iterations without reaching Tolerance {o.Tolerance}.");
        }

        var classCount = data.ClassCount;
        var outcomes = new List<LabelSpreadingRowOutcome>();
        var unreached = 0;
        for (var r = 0; r < n; r++)
        {
            if (data.Classes[r] >= 0) continue;
            var best = -1;
            var top = 0.0;
            for (var c = 0; c < classCount; c++)
            {
                var v = result.Distributions[r * classCount + c];
                if (v > top) (best, top) = (c, v);
            }
            if (best < 0) unreached++;
            outcomes.Add(new LabelSpreadingRowOutcome(data.InputRow[r], best, top, result.Mass[r]));
        }
        outcomes.Sort((a, b) => a.InputRow.CompareTo(b.InputRow));
        if (unreached > 0)
        {
            notes.Add($"{unreached} of {outcomes.Count} unlabelled rows were reached by no label within {result.Iterations} iterations (their graph component has no " +
                "labelled row, or it is too far for the tolerance): they have no class, and new rows whose neighbours are all such rows are predicted as missing.");
        }
        context.Info($"Label spreading: {n} rows, {result.Iterations} iterations, {unreached} unreached.");

        var details = new LabelSpreadingModel.Details([.. data.ClassNames], o.Kernel, k, gamma, o.HardClamping ? double.NaN : o.Alpha, o.HardClamping, result.Iterations, result.Converged, o.StandardizeFeatures,
            data.Mean, data.Sd, n, n - outcomes.Count, outcomes.Count, unreached, o.UnknownThreshold, [.. notes]);
        var model = new LabelSpreadingModel(details, Array.ConvertAll(data.Features, v => (double)v), result.Distributions, outcomes);
        return new LabelSpreadingTransformer(context.MLContext, model, input.Schema, o.FeatureColumnName);
    }

    private static void CheckOptions(Options o)
    {
        if (!Enum.IsDefined(o.Kernel)) throw new ArgumentOutOfRangeException(nameof(Options.Kernel), o.Kernel, $"Kernel {o.Kernel} is not a LabelSpreadingKernel.");
        Require(o.NumberOfNeighbors >= 1, nameof(Options.NumberOfNeighbors), o.NumberOfNeighbors, "be at least 1");
        Require(o.Gamma is null || (o.Gamma > 0 && double.IsFinite(o.Gamma.Value)), nameof(Options.Gamma), o.Gamma, "be a finite number > 0 (or null)");
        Require(o.Alpha > 0 && o.Alpha < 1, nameof(Options.Alpha), o.Alpha, "lie in (0, 1)");
        Require(o.MaximumNumberOfIterations >= 1, nameof(Options.MaximumNumberOfIterations), o.MaximumNumberOfIterations, "be at least 1");
        Require(o.Tolerance >= 0 && double.IsFinite(o.Tolerance), nameof(Options.Tolerance), o.Tolerance, "be a finite number >= 0");
        Require(o.UnknownThreshold is null || (o.UnknownThreshold >= 0 && o.UnknownThreshold <= 1), nameof(Options.UnknownThreshold), o.UnknownThreshold, "lie in [0, 1] (or be null)");
    }

    private static void Require(bool ok, string option, object? value, string rule)
    {
        if (!ok) throw new ArgumentOutOfRangeException(option, value, $"{option} must {rule}, but is {value?.ToString() ?? "null"}.");
    }
}
