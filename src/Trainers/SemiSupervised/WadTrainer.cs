using Microsoft.ML.PaperExtensions.Data;
using Microsoft.ML.PaperExtensions.Onnx;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.SearchSpace;

namespace Microsoft.ML.PaperExtensions.SemiSupervised;

/// <summary>
/// WAD (Du et al., ICCV 2023): semi-supervised classification that stays robust when the unlabelled rows include classes
/// no label covers. A contrastive teacher (SCARF on tabular rows) embeds every row; each unlabelled row gets the known class
/// of its most similar labelled anchor as pseudo-label and the margin between its two best class similarities as weight;
/// a student is trained on the labelled rows plus the weighted pseudo-labels, in rounds that promote the rows where student
/// and teacher agree most. Rows of unknown classes tend to sit between known classes and so get small weights.
/// </summary>
/// <remarks>
/// <para>Input columns: the label (a key column, with the missing key for unlabelled rows; a Single or Double column, NaN =
/// unlabelled; or a text column, empty = unlabelled) and the features (Single or Double, scalar or known-size vector, no NaN).
/// The known classes are those present among the labelled rows.</para>
/// <para>Output columns: see <see cref="SemiSupervisedTransformer"/> (<c>Score</c>, <c>PredictedLabel</c>,
/// <c>KnownClassSimilarity</c>); ML.NET's multiclass evaluator runs on them.</para>
/// <list type="table">
/// <listheader><term>Trainer characteristics</term><description></description></listheader>
/// <item><term>Machine learning task</term><description>Semi-supervised multiclass classification</description></item>
/// <item><term>Is normalization required?</term><description>No: features are standardised internally (over all rows) and the mapping is part of the model.</description></item>
/// <item><term>Is caching required?</term><description>No: the data are read once.</description></item>
/// <item><term>Required NuGet in addition to Microsoft.ML</term><description>Microsoft.ML.PaperExtensions.Trainers, and a TorchSharp native package (TorchSharp-cpu) in the application.</description></item>
/// </list>
/// <para>Rows are put in a canonical order (by a hash of their content) before training, so a fixed seed gives the same model
/// whatever the input row order.</para>
/// </remarks>
public sealed class WadTrainer : PaperTrainerBase<SemiSupervisedTransformer>
{
    /// <summary>Options of <see cref="WadTrainer"/>.</summary>
    public sealed class Options
    {
        /// <summary>The label column: key (missing key = unlabelled), Single/Double (NaN = unlabelled) or text (empty = unlabelled).</summary>
        public string LabelColumnName { get; set; } = ColumnNames.Label;

        /// <summary>The feature column: Single or Double, scalar or known-size vector.</summary>
        public string FeatureColumnName { get; set; } = ColumnNames.Features;

        /// <summary>WAD, or one of the baselines (same student) to compare it with.</summary>
        public SemiSupervisedMethod Method { get; set; } = SemiSupervisedMethod.Wad;

        /// <summary>
        /// alpha: the pool fraction promoted after round i is alpha (1 - min(i, Split)/Split)^2. Null (default): WAD's 0.1; 0
        /// (no promotions) with <see cref="TeacherRule.Propagation"/> and <see cref="StudentRule.Neighbors"/>, where promoted
        /// rows would re-seed the teacher with its own pseudo-labels: that cost 0.45 points on digits' validation seeds 6-15 at
        /// rho 0.6 (docs/benchmarks.md).
        /// </summary>
        [Range(0.0, 0.5, 0.1, false)]
        public double? Alpha { get; set; }

        /// <summary>Split: WAD trains Split + 1 rounds.</summary>
        [Range(1, 10, 5, false)]
        public int Split { get; set; } = 5;

        /// <summary>The NT-Xent temperature tau.</summary>
        [Range(0.05, 2.0, 0.5, true)]
        public double Temperature { get; set; } = 0.5;

        /// <summary>How the teacher makes the second view of a row.</summary>
        public ContrastiveAugmentation Augmentation { get; set; } = ContrastiveAugmentation.Scarf;

        /// <summary>SCARF: the share of features replaced per view.</summary>
        [Range(0.1, 0.9, 0.6, false)]
        public double CorruptionRate { get; set; } = 0.6;

        /// <summary>VIME: the probability that a feature is replaced.</summary>
        public double VimeMaskProbability { get; set; } = 0.3;

        /// <summary>Whether both views are corrupted (otherwise the positive pair is the clean row and one corrupted view).</summary>
        public bool CorruptBothViews { get; set; }

        /// <summary>Width of the teacher's four encoder layers and of its projection head's hidden layer.</summary>
        [Range(32, 1024, 256, true)]
        public int EncoderWidth { get; set; } = 256;

        /// <summary>Dimension of the teacher's embedding (the projection output).</summary>
        public int ProjectionDimension { get; set; } = 128;

        /// <summary>Passes of the teacher over all rows; null picks enough for about 2,000 optimiser steps (between 5 and 200).</summary>
        public int? TeacherEpochs { get; set; }

        /// <summary>Rows per teacher batch (2 x as many embeddings in the NT-Xent loss).</summary>
        public int TeacherBatchSize { get; set; } = 128;

        /// <summary>The teacher's Adam learning rate.</summary>
        [Range(1e-4, 1e-2, 1e-3, true)]
        public double TeacherLearningRate { get; set; } = 1e-3;

        /// <summary>
        /// How the teacher scores the unlabelled rows: WAD's anchor similarities (default), or label spreading along a kNN graph
        /// in <see cref="PropagationSpace"/> (<see cref="TeacherRule.Propagation"/>, not part of WAD; with the neighbour student
        /// and the defaults it is <see cref="LabelSpreadingTrainer"/> with its defaults); either way the weight is the top-2 margin
        /// of the scores and the student rounds are WAD's. Rows the spread labels do not reach get weight 0.
        /// </summary>
        public TeacherRule Teacher { get; set; } = TeacherRule.Anchor;

        /// <summary>
        /// Propagation teacher and neighbour student: where the kNN graph is built and distances are taken (the embedding; the
        /// standardised features; or the raw features, for features in one unit such as pixels).
        /// </summary>
        public PropagationSpace PropagationSpace { get; set; } = PropagationSpace.Embedding;

        /// <summary>
        /// What the pseudo-labels are distilled into: WAD's network student (default), or a k-nearest-neighbour rule in
        /// <see cref="PropagationSpace"/> (<see cref="StudentRule.Neighbors"/>, not part of WAD; Wad or PseudoLabel only, without
        /// <see cref="StudentTrainer"/>). The supervised-only fallback of the safeguard always trains the network student.
        /// </summary>
        public StudentRule Student { get; set; } = StudentRule.Network;

        /// <summary>
        /// Propagation teacher: k of the kNN graph (the row itself included). Null (default): 10 with the network student, 7
        /// (label spreading's) with the neighbour student; see <see cref="PropagationAlpha"/>.
        /// </summary>
        [Range(3, 50, 10, true)]
        public int? PropagationNeighbors { get; set; }

        /// <summary>
        /// Neighbour student: how many nearest voters decide a row's class. The default 7 is label spreading's k; it was chosen on
        /// digits' validation seeds 6-10 against the teacher's 10 (docs/benchmarks.md). Not a search dimension: AutoML searches
        /// the network student.
        /// </summary>
        public int StudentNeighbors { get; set; } = 7;

        /// <summary>
        /// Propagation teacher: the spreading factor alpha in (0, 1), how far the labels travel along the graph (Zhou et al. use
        /// 0.99, label spreading 0.2). Null (default) picks by <see cref="Student"/>, as chosen on digits' validation seeds and on
        /// wine, iris and breast_cancer (docs/benchmarks.md):
        /// <list type="bullet">
        /// <item>network student: alpha 0.5, k 10, 100 iterations, no tolerance, so that the labels reach every connected row
        /// and the network learns from all of them;</item>
        /// <item>neighbour student: label spreading's alpha 0.2, k 7, at most 30 iterations, tolerance 1e-3, so that the teacher
        /// is <see cref="LabelSpreadingTrainer"/> with its defaults (and, as <see cref="Alpha"/> then promotes nothing, in every
        /// round); the rows it leaves unreached, a few graph steps from every label, where rows of classes absent from the
        /// labels lie, get weight 0 and do not vote.</item>
        /// </list>
        /// </summary>
        [Range(0.05, 0.99, 0.5, false)]
        public double? PropagationAlpha { get; set; }

        /// <summary>Propagation teacher: the most spreading iterations per round. Null (default): see <see cref="PropagationAlpha"/>.</summary>
        public int? PropagationIterations { get; set; }

        /// <summary>
        /// Propagation teacher: spreading stops once the labels' total change in an iteration falls below this (label spreading's
        /// <c>tol</c>); pool rows the labels have not reached by then get weight 0 and are never promoted. 0 runs all
        /// <see cref="PropagationIterations"/>. Null (default): see <see cref="PropagationAlpha"/>.
        /// </summary>
        public double? PropagationTolerance { get; set; }

        /// <summary>How unlabelled rows are scored against a class (nearest anchor is WAD).</summary>
        public AnchorScoring Scoring { get; set; } = AnchorScoring.NearestAnchor;

        /// <summary>
        /// Views the class scores of an unlabelled row are averaged over: 1 scores the clean row (default); more average the
        /// scores of that many corrupted views (the released code scores augmented views).
        /// </summary>
        public int ScoringViews { get; set; } = 1;

        /// <summary>Not part of WAD: rows whose best class similarity is below this get weight 0; null = off.</summary>
        public double? MinTopScore { get; set; }

        /// <summary>
        /// When set, a row whose <c>KnownClassConfidence</c> (the teacher's top-2 class-score margin, in [0, 2]) is below this is
        /// predicted as unknown: the missing key (0) in <c>PredictedLabel</c>, which evaluators count as unpredicted. Needs a
        /// teacher (Wad or PseudoLabel) and the MLP or neighbour student; null = never.
        /// </summary>
        public double? UnknownThreshold { get; set; }

        /// <summary>
        /// The safe default: before the final fit, cross-validate on the labelled rows (<see cref="SafeguardFolds"/> stratified
        /// folds; the held-out labelled rows join the pool) the method against the same student trained on the labelled rows
        /// alone, and unless the method gets at least two more held-out labelled rows right, train the final student as the supervised-only method does. The model says so
        /// (<see cref="SemiSupervisedModel.FellBackToSupervised"/>, <see cref="SemiSupervisedModel.Notes"/>). Costs about
        /// folds x (the student rounds of both); the teacher is trained once. false = always use the unlabelled rows.
        /// </summary>
        public bool FallBackToSupervised { get; set; } = true;

        /// <summary>Folds of the safeguard's cross-validation (at most the smallest number of labelled rows of a class).</summary>
        public int SafeguardFolds { get; set; } = 3;

        /// <summary>Width of each hidden layer of the MLP student.</summary>
        [Range(16, 1024, 128, true)]
        public int StudentHiddenWidth { get; set; } = 128;

        /// <summary>Hidden layers of the MLP student.</summary>
        [Range(1, 4, 2, false)]
        public int StudentHiddenLayers { get; set; } = 2;

        /// <summary>Optimiser steps of the MLP student per round.</summary>
        [Range(100, 3000, 500, true)]
        public int StudentIterationsPerRound { get; set; } = 500;

        /// <summary>Rows per labelled batch and per unlabelled batch of the MLP student.</summary>
        public int BatchSize { get; set; } = 32;

        /// <summary>The MLP student's Adam learning rate.</summary>
        [Range(1e-4, 1e-2, 5e-4, true)]
        public double StudentLearningRate { get; set; } = 5e-4;

        /// <summary>Standard deviation of the Gaussian noise added to the (standardised) student inputs in training; 0 = none.</summary>
        [Range(0.0, 0.5, 0.15, false)]
        public double StudentInputNoise { get; set; } = 0.15;

        /// <summary>
        /// An ML.NET multiclass trainer that accepts example weights, as the student instead of the MLP; null = the MLP. The
        /// fitted model is then that trainer's own transformer reading the standardised features.
        /// </summary>
        public StudentTrainerFactory? StudentTrainer { get; set; }

        /// <summary>
        /// Factor on the unlabelled rows' weights; null = 1 for the MLP student (its loss averages each batch) and
        /// labelled / unlabelled row count for an ML.NET student (whose loss sums over rows).
        /// </summary>
        public double? UnlabeledWeightScale { get; set; }

        /// <summary>Self-training baseline: a row is added when its top class probability exceeds this.</summary>
        public double SelfTrainingThreshold { get; set; } = 0.75;

        /// <summary>Self-training baseline: the most add-and-refit iterations.</summary>
        public int SelfTrainingMaxIterations { get; set; } = 10;

        /// <summary>The seed of initialisation, batches and corruption; null draws it from the MLContext.</summary>
        public int? Seed { get; set; }

        /// <summary>Where the tensor work runs.</summary>
        public ComputeDevice Device { get; set; } = ComputeDevice.Auto;
    }

    private readonly Options _options;

    internal WadTrainer(MLContext mlContext, Options options) : base(mlContext)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckOptions(options);
        _options = options;
    }

    private protected override InputColumns InputColumns => SemiSupervisedData.Inputs(_options.LabelColumnName, _options.FeatureColumnName);

    private protected override IReadOnlyList<PredictionColumn> OutputColumns =>
        SemiSupervisedTransformer.Outputs(_options.Method is SemiSupervisedMethod.Wad or SemiSupervisedMethod.PseudoLabel);

    private protected override (ComputeDevice Device, int? Seed) Runtime => (_options.Device, _options.Seed);

    private protected override SemiSupervisedTransformer FitCore(IDataView input, TrainingContext context)
    {
        var o = _options;
        CheckOptions(o);
        var data = SemiSupervisedData.Read(input, o.LabelColumnName, o.FeatureColumnName, context.CancellationToken);
        var batch = Math.Min(o.TeacherBatchSize, data.RowCount);
        // The neighbour student predicts as label spreading does, so by default its propagation teacher is label spreading.
        var spreads = o.Student == StudentRule.Neighbors && o.Teacher == TeacherRule.Propagation;
        var settings = new SemiSupervisedSettings
        {
            Method = o.Method,
            Alpha = o.Alpha ?? (spreads ? 0 : 0.1),
            Split = o.Split,
            Teacher = new TeacherSettings
            {
                EncoderWidth = o.EncoderWidth,
                ProjectionDimension = o.ProjectionDimension,
                Epochs = o.TeacherEpochs ?? Math.Clamp((int)Math.Ceiling(2000.0 / Math.Max(1, data.RowCount / batch)), 5, 200),
                BatchSize = o.TeacherBatchSize,
                LearningRate = o.TeacherLearningRate,
                Temperature = o.Temperature,
                Augmentation = o.Augmentation,
                CorruptionRate = o.CorruptionRate,
                VimeMaskProbability = o.VimeMaskProbability,
                CorruptBothViews = o.CorruptBothViews,
            },
            Student = new MlpStudentSettings
            {
                HiddenWidth = o.StudentHiddenWidth,
                HiddenLayers = o.StudentHiddenLayers,
                IterationsPerRound = o.StudentIterationsPerRound,
                BatchSize = o.BatchSize,
                LearningRate = o.StudentLearningRate,
                InputNoise = o.StudentInputNoise,
            },
            StudentTrainer = o.StudentTrainer,
            Scoring = o.Scoring,
            TeacherRule = o.Teacher,
            PropagationSpace = o.PropagationSpace,
            StudentRule = o.Student,
            PropagationNeighbors = o.PropagationNeighbors ?? (spreads ? 7 : 10),
            StudentNeighbors = o.StudentNeighbors,
            PropagationAlpha = o.PropagationAlpha ?? (spreads ? 0.2 : 0.5),
            PropagationIterations = o.PropagationIterations ?? (spreads ? 30 : 100),
            PropagationTolerance = o.PropagationTolerance ?? (spreads ? 1e-3 : 0),
            ScoringViews = o.ScoringViews,
            MinTopScore = o.MinTopScore,
            UnknownThreshold = o.UnknownThreshold,
            SafeguardFolds = o.FallBackToSupervised ? o.SafeguardFolds : 0,
            UnlabeledWeightScale = o.UnlabeledWeightScale,
            SelfTrainingThreshold = o.SelfTrainingThreshold,
            SelfTrainingMaxIterations = o.SelfTrainingMaxIterations,
            Seed = context.Seed,
        };
        var model = new SemiSupervisedFitter(context, data, settings).Fit();
        return new SemiSupervisedTransformer(context.MLContext, model, input.Schema, o.FeatureColumnName);
    }

    private static void CheckOptions(Options o)
    {
        if (!Enum.IsDefined(o.Method)) throw new ArgumentOutOfRangeException(nameof(Options.Method), o.Method, $"Method {o.Method} is not a SemiSupervisedMethod.");
        Require(o.Alpha is null or (>= 0 and < 1), nameof(Options.Alpha), o.Alpha, "lie in [0, 1) (or be null)");
        Require(o.Split >= 1, nameof(Options.Split), o.Split, "be at least 1");
        Require(o.Temperature > 0 && double.IsFinite(o.Temperature), nameof(Options.Temperature), o.Temperature, "be a finite number > 0");
        Require(o.CorruptionRate > 0 && o.CorruptionRate < 1, nameof(Options.CorruptionRate), o.CorruptionRate, "lie in (0, 1)");
        Require(o.VimeMaskProbability > 0 && o.VimeMaskProbability < 1, nameof(Options.VimeMaskProbability), o.VimeMaskProbability, "lie in (0, 1)");
        Require(o.EncoderWidth >= 1, nameof(Options.EncoderWidth), o.EncoderWidth, "be at least 1");
        Require(o.ProjectionDimension >= 2, nameof(Options.ProjectionDimension), o.ProjectionDimension, "be at least 2");
        Require(o.TeacherEpochs is null or >= 1, nameof(Options.TeacherEpochs), o.TeacherEpochs, "be at least 1 (or null for automatic)");
        Require(o.TeacherBatchSize >= 2, nameof(Options.TeacherBatchSize), o.TeacherBatchSize, "be at least 2");
        Require(o.TeacherLearningRate > 0 && double.IsFinite(o.TeacherLearningRate), nameof(Options.TeacherLearningRate), o.TeacherLearningRate, "be a finite number > 0");
        if (!Enum.IsDefined(o.Teacher)) throw new ArgumentOutOfRangeException(nameof(Options.Teacher), o.Teacher, $"Teacher {o.Teacher} is not a TeacherRule.");
        if (!Enum.IsDefined(o.PropagationSpace)) throw new ArgumentOutOfRangeException(nameof(Options.PropagationSpace), o.PropagationSpace, $"PropagationSpace {o.PropagationSpace} is not a PropagationSpace.");
        if (!Enum.IsDefined(o.Student)) throw new ArgumentOutOfRangeException(nameof(Options.Student), o.Student, $"Student {o.Student} is not a StudentRule.");
        if (o.Student == StudentRule.Neighbors && (o.Method is not (SemiSupervisedMethod.Wad or SemiSupervisedMethod.PseudoLabel) || o.StudentTrainer is not null))
        {
            throw new ArgumentException($"Student = Neighbors distils a teacher's pseudo-labels, so it needs Method Wad or PseudoLabel and no StudentTrainer, but Method is {o.Method}" +
                (o.StudentTrainer is null ? "." : " with a StudentTrainer."), nameof(Options.Student));
        }
        Require(o.PropagationNeighbors is null or >= 2, nameof(Options.PropagationNeighbors), o.PropagationNeighbors, "be at least 2 (or null)");
        Require(o.StudentNeighbors >= 1, nameof(Options.StudentNeighbors), o.StudentNeighbors, "be at least 1");
        Require(o.PropagationAlpha is null or (> 0 and < 1), nameof(Options.PropagationAlpha), o.PropagationAlpha, "lie in (0, 1) (or be null)");
        Require(o.PropagationIterations is null or >= 1, nameof(Options.PropagationIterations), o.PropagationIterations, "be at least 1 (or null)");
        Require(o.PropagationTolerance is null || (o.PropagationTolerance >= 0 && double.IsFinite(o.PropagationTolerance.Value)), nameof(Options.PropagationTolerance),
            o.PropagationTolerance, "be a finite number >= 0 (or null)");
        Require(o.ScoringViews >= 1, nameof(Options.ScoringViews), o.ScoringViews, "be at least 1");
        Require(o.MinTopScore is null || (o.MinTopScore >= -1 && o.MinTopScore <= 1), nameof(Options.MinTopScore), o.MinTopScore, "lie in [-1, 1] (or be null)");
        Require(o.UnknownThreshold is null || (o.UnknownThreshold >= 0 && o.UnknownThreshold <= 2), nameof(Options.UnknownThreshold), o.UnknownThreshold, "lie in [0, 2] (or be null)");
        if (o.UnknownThreshold is not null && (o.Method is not (SemiSupervisedMethod.Wad or SemiSupervisedMethod.PseudoLabel) || o.StudentTrainer is not null))
        {
            throw new ArgumentException($"UnknownThreshold needs the teacher's margin and a student of this package (MLP or neighbours), but Method is {o.Method}" +
                (o.StudentTrainer is null ? "." : " with a StudentTrainer (whose PredictedLabel the graph cannot gate)."), nameof(Options.UnknownThreshold));
        }
        Require(o.SafeguardFolds >= 2, nameof(Options.SafeguardFolds), o.SafeguardFolds, "be at least 2");
        Require(o.StudentHiddenWidth >= 1, nameof(Options.StudentHiddenWidth), o.StudentHiddenWidth, "be at least 1");
        Require(o.StudentHiddenLayers >= 0, nameof(Options.StudentHiddenLayers), o.StudentHiddenLayers, "be at least 0");
        Require(o.StudentIterationsPerRound >= 1, nameof(Options.StudentIterationsPerRound), o.StudentIterationsPerRound, "be at least 1");
        Require(o.BatchSize >= 1, nameof(Options.BatchSize), o.BatchSize, "be at least 1");
        Require(o.StudentLearningRate > 0 && double.IsFinite(o.StudentLearningRate), nameof(Options.StudentLearningRate), o.StudentLearningRate, "be a finite number > 0");
        Require(o.StudentInputNoise >= 0 && double.IsFinite(o.StudentInputNoise), nameof(Options.StudentInputNoise), o.StudentInputNoise, "be a finite number >= 0");
        Require(o.UnlabeledWeightScale is null || (o.UnlabeledWeightScale >= 0 && double.IsFinite(o.UnlabeledWeightScale.Value)), nameof(Options.UnlabeledWeightScale), o.UnlabeledWeightScale, "be a finite number >= 0 (or null)");
        Require(o.SelfTrainingThreshold >= 0 && o.SelfTrainingThreshold < 1, nameof(Options.SelfTrainingThreshold), o.SelfTrainingThreshold, "lie in [0, 1)");
        Require(o.SelfTrainingMaxIterations >= 1, nameof(Options.SelfTrainingMaxIterations), o.SelfTrainingMaxIterations, "be at least 1");
    }

    private static void Require(bool ok, string option, object? value, string rule)
    {
        if (!ok) throw new ArgumentOutOfRangeException(option, value, $"{option} must {rule}, but is {value?.ToString() ?? "null"}.");
    }
}
