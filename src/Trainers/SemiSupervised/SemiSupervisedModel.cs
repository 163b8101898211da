using Microsoft.ML.PaperExtensions.Onnx;

namespace Microsoft.ML.PaperExtensions.SemiSupervised;

/// <summary>One round of semi-supervised training.</summary>
/// <param name="Round">1-based round (self-training: iteration).</param>
/// <param name="Alpha">The promotion fraction alpha_i of the round (WAD: alpha (1 - min(i, split)/split)^2; 0 when nothing is promoted by fraction).</param>
/// <param name="LabeledRowCount">Labelled rows the student trained on (ground truth plus promoted rows).</param>
/// <param name="UnlabeledRowCount">Rows left in the unlabelled pool at the start of the round.</param>
/// <param name="PromotedRowCount">Rows moved from the pool to the labelled set at the end of the round.</param>
/// <param name="MeanUnlabeledWeight">Mean weight of the pool's rows in this round.</param>
public sealed record SemiSupervisedRound(int Round, double Alpha, int LabeledRowCount, int UnlabeledRowCount, int PromotedRowCount, double MeanUnlabeledWeight);

/// <summary>What training did with one unlabelled input row.</summary>
/// <param name="InputRow">0-based index of the row in the training data.</param>
/// <param name="PseudoClass">The class (0-based index into <see cref="SemiSupervisedModel.ClassNames"/>) the first round gave it, or -1.</param>
/// <param name="Weight">Its weight in the first round (WAD: the top-2 margin in [0, 2]; pseudo-labelling 1; self-training 1 once added, else 0; supervised 0).</param>
/// <param name="TopScore">Its highest class score s(1) in the first round: anchor similarity, or with the propagation teacher its largest spread probability (NaN without a teacher).</param>
/// <param name="PromotedInRound">The round in which it joined the labelled set, or 0 when it never did.</param>
public sealed record UnlabeledRowOutcome(int InputRow, int PseudoClass, double Weight, double TopScore, int PromotedInRound);

/// <summary>The neighbour student's voters: their rows in the graph space, [count, Dimension] row-major, and their targets, [count, K].</summary>
internal sealed record NeighborVotes(PropagationSpace Space, int Neighbors, int Dimension, double[] Rows, double[] Targets)
{
    public int Count => Rows.Length / Math.Max(1, Dimension);
}

/// <summary>
/// A fitted semi-supervised classifier, immutable: the known classes, the feature standardisation, the frozen teacher with
/// its anchors (when the method has one) and the student, plus what training did.
/// </summary>
public sealed class SemiSupervisedModel
{
    internal SemiSupervisedModel(SemiSupervisedMethod method, IReadOnlyList<string> classNames, double[] mean, double[] sd, MlpWeights? teacher,
        float[] anchors, int[] anchorClasses, MlpWeights? student, ITransformer? studentTransformer, IReadOnlyList<SemiSupervisedRound> rounds,
        IReadOnlyList<UnlabeledRowOutcome> unlabeledRows, int labeledRowCount, IReadOnlyList<string> notes, AnchorScoring scoring = AnchorScoring.NearestAnchor,
        double? unknownThreshold = null)
    {
        Scoring = scoring;
        UnknownThreshold = unknownThreshold;
        Method = method;
        ClassNames = classNames;
        Mean = mean;
        Sd = sd;
        Teacher = teacher;
        Anchors = anchors;
        AnchorClasses = anchorClasses;
        StudentWeights = student;
        StudentTransformer = studentTransformer;
        Rounds = rounds;
        UnlabeledRows = unlabeledRows;
        LabeledRowCount = labeledRowCount;
        Notes = notes;
        UnlabeledRowCount = unlabeledRows.Count;
        MeanUnlabeledWeight = unlabeledRows.Count == 0 ? 0 : unlabeledRows.Average(r => r.Weight);
        HasTeacher = teacher is not null;
    }

    /// <summary>How the unlabelled rows were used.</summary>
    public SemiSupervisedMethod Method { get; }

    /// <summary>The known classes (those with labelled rows), in the order of <c>Score</c>'s slots and of the key values of <c>PredictedLabel</c>.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Number of features.</summary>
    public int FeatureCount => Mean.Length;

    /// <summary>Rows with a label in the training data.</summary>
    public int LabeledRowCount { get; }

    /// <summary>Rows without a label in the training data.</summary>
    public int UnlabeledRowCount { get; private init; }

    /// <summary>Whether the model has a contrastive teacher and so writes <c>KnownClassSimilarity</c>.</summary>
    public bool HasTeacher { get; private init; }

    /// <summary>How the teacher scores a row against a class (and so how <c>KnownClassConfidence</c>, the top-2 margin of those scores, is computed).</summary>
    public AnchorScoring Scoring { get; }

    /// <summary>Rows whose <c>KnownClassConfidence</c> is below this are predicted as unknown (the missing key); null = never.</summary>
    public double? UnknownThreshold { get; }

    /// <summary>
    /// Whether the safeguard found the method below supervised-only in cross-validation on the labelled rows, so that the
    /// student was trained on the labelled rows alone (see <see cref="Notes"/>).
    /// </summary>
    public bool FellBackToSupervised { get; internal init; }

    /// <summary>What predicts: the network student, or the neighbour rule over the voting training rows the model keeps.</summary>
    public StudentRule Student { get; internal init; }

    /// <summary>The safeguard's cross-validated accuracy on the labelled rows of the method and of supervised-only; null when it did not run.</summary>
    public (double SemiSupervised, double Supervised)? SafeguardAccuracy { get; internal init; }

    /// <summary>Number of anchors (labelled and promoted rows) that <c>KnownClassSimilarity</c> compares with.</summary>
    public int AnchorCount => AnchorClasses.Length;

    /// <summary>The rounds of training, in order.</summary>
    public IReadOnlyList<SemiSupervisedRound> Rounds { get; }

    /// <summary>What training did with each unlabelled row, in input order (empty in a model read back by <see cref="FromLoaded"/>: it describes the training data, not the model).</summary>
    public IReadOnlyList<UnlabeledRowOutcome> UnlabeledRows { get; }

    /// <summary>The mean first-round weight of the unlabelled rows (0 when there are none).</summary>
    public double MeanUnlabeledWeight { get; private init; }

    /// <summary>Things the user should know about this fit (for example constant features, or no unlabelled rows).</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>
    /// The model inside a transformer loaded with <c>mlContext.Model.Load</c>, read from the details stored with its ONNX graph:
    /// the method, classes, feature standardisation, anchors' classes, rounds and notes. The network weights stay in the graph.
    /// </summary>
    /// <exception cref="ArgumentException">The transformer holds no semi-supervised model of this package.</exception>
    public static SemiSupervisedModel FromLoaded(ITransformer transformer)
    {
        var d = ModelDetails.Read<Details>(transformer, nameof(SemiSupervisedModel));
        return new SemiSupervisedModel(d.Method, d.ClassNames, d.Mean, d.Sd, null, [], d.AnchorClasses, null, null, d.Rounds, [], d.LabeledRowCount, d.Notes,
            d.Scoring, d.UnknownThreshold)
        {
            UnlabeledRowCount = d.UnlabeledRowCount,
            MeanUnlabeledWeight = d.MeanUnlabeledWeight,
            HasTeacher = d.HasTeacher,
            FellBackToSupervised = d.FellBackToSupervised,
            Student = d.Student,
            SafeguardAccuracy = d.SafeguardSemiSupervised is { } semi ? (semi, d.SafeguardSupervised ?? double.NaN) : null,
        };
    }

    /// <summary>What the ONNX graph stores of the model.</summary>
    internal sealed record Details(SemiSupervisedMethod Method, string[] ClassNames, double[] Mean, double[] Sd, int[] AnchorClasses, SemiSupervisedRound[] Rounds,
        int LabeledRowCount, int UnlabeledRowCount, double MeanUnlabeledWeight, bool HasTeacher, string[] Notes, AnchorScoring Scoring = AnchorScoring.NearestAnchor,
        double? UnknownThreshold = null, bool FellBackToSupervised = false, double? SafeguardSemiSupervised = null, double? SafeguardSupervised = null,
        StudentRule Student = StudentRule.Network);

    internal Details ToDetails() => new(Method, [.. ClassNames], Mean, Sd, AnchorClasses, [.. Rounds], LabeledRowCount, UnlabeledRowCount, MeanUnlabeledWeight, HasTeacher, [.. Notes],
        Scoring, UnknownThreshold, FellBackToSupervised, SafeguardAccuracy?.SemiSupervised, SafeguardAccuracy?.Supervised, Student);

    internal double[] Mean { get; }

    internal double[] Sd { get; }

    internal MlpWeights? Teacher { get; }

    /// <summary>Normalised anchor embeddings, [AnchorCount, D] row-major.</summary>
    internal float[] Anchors { get; }

    internal int[] AnchorClasses { get; }

    /// <summary>The MLP student, or null when an ML.NET trainer was the student.</summary>
    internal MlpWeights? StudentWeights { get; }

    /// <summary>The neighbour student's voters, or null for a network student (and in a model read back by <see cref="FromLoaded"/>).</summary>
    internal NeighborVotes? Neighbors { get; init; }

    /// <summary>The ML.NET student's transformer (it reads the standardised features), or null for the MLP student.</summary>
    internal ITransformer? StudentTransformer { get; }
}
