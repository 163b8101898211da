using Microsoft.ML.PaperExtensions.Onnx;

namespace Microsoft.ML.PaperExtensions.SemiSupervised;

/// <summary>The graph label spreading runs on.</summary>
public enum LabelSpreadingKernel
{
    /// <summary>kNN connectivity: each row is linked to its <c>NumberOfNeighbors</c> nearest rows (itself included), weight 1.</summary>
    Knn,
    /// <summary>The full RBF kernel exp(-gamma ||x_i - x_j||^2), computed in blocks (never held as an n x n matrix).</summary>
    Rbf,
}

/// <summary>What label spreading gave one training row.</summary>
/// <param name="InputRow">0-based index of the row in the training data.</param>
/// <param name="Class">The transduced class (0-based index into <see cref="LabelSpreadingModel.ClassNames"/>), or -1 when no label reached the row.</param>
/// <param name="Confidence">The row's largest normalised class score (0 when no label reached it).</param>
/// <param name="Mass">The row's label mass before normalisation: how strongly the labelled rows reach it (0 = not at all).</param>
public sealed record LabelSpreadingRowOutcome(int InputRow, int Class, double Confidence, double Mass);

/// <summary>
/// A fitted label-spreading classifier, immutable: the known classes, the feature scaling, the training rows and their label
/// distributions (which predict new rows through their neighbours among the training rows), and what the fit did.
/// </summary>
public sealed class LabelSpreadingModel
{
    internal LabelSpreadingModel(Details details, double[] trainingFeatures, double[] distributions, IReadOnlyList<LabelSpreadingRowOutcome> unlabeledRows)
    {
        D = details;
        TrainingFeatures = trainingFeatures;
        Distributions = distributions;
        UnlabeledRows = unlabeledRows;
    }

    private Details D { get; }

    /// <summary>The known classes (those with labelled rows), in the order of <c>Score</c>'s slots and of the key values of <c>PredictedLabel</c>.</summary>
    public IReadOnlyList<string> ClassNames => D.ClassNames;

    /// <summary>The graph.</summary>
    public LabelSpreadingKernel Kernel => D.Kernel;

    /// <summary>k of the kNN graph (also the neighbours a new row is predicted from).</summary>
    public int NumberOfNeighbors => D.NumberOfNeighbors;

    /// <summary>The RBF gamma used (on the scaled features); NaN for the kNN graph.</summary>
    public double Gamma => D.Gamma;

    /// <summary>The spreading factor alpha; NaN for label propagation (<see cref="HardClamping"/>).</summary>
    public double Alpha => D.Alpha;

    /// <summary>Whether this is label propagation: the labelled rows were reset to their labels every iteration.</summary>
    public bool HardClamping => D.HardClamping;

    /// <summary>Spreading iterations run.</summary>
    public int Iterations => D.Iterations;

    /// <summary>Whether the change fell below the tolerance before the iteration limit.</summary>
    public bool Converged => D.Converged;

    /// <summary>Whether features were standardised before distances were taken.</summary>
    public bool StandardizedFeatures => D.Standardized;

    /// <summary>Rows with a label in the training data.</summary>
    public int LabeledRowCount => D.LabeledRowCount;

    /// <summary>Rows without a label in the training data.</summary>
    public int UnlabeledRowCount => D.UnlabeledRowCount;

    /// <summary>Unlabelled training rows that no label reached (they have no class, and new rows near only them get none either).</summary>
    public int UnreachedRowCount => D.UnreachedRowCount;

    /// <summary>Number of features.</summary>
    public int FeatureCount => D.Mean.Length;

    /// <summary>Training rows kept to predict new rows.</summary>
    public int TrainingRowCount => D.TrainingRowCount;

    /// <summary>Rows whose confidence is below this are predicted as unknown (the missing key); null = never.</summary>
    public double? UnknownThreshold => D.UnknownThreshold;

    /// <summary>What the fit gave each unlabelled row, in input order (empty in a model read back by <see cref="FromLoaded"/>).</summary>
    public IReadOnlyList<LabelSpreadingRowOutcome> UnlabeledRows { get; }

    /// <summary>Things the user should know about this fit.</summary>
    public IReadOnlyList<string> Notes => D.Notes;

    /// <summary>The model inside a transformer loaded with <c>mlContext.Model.Load</c>, read from the details stored with its ONNX graph.</summary>
    /// <exception cref="ArgumentException">The transformer holds no label-spreading model of this package.</exception>
    public static LabelSpreadingModel FromLoaded(ITransformer transformer) =>
        new(ModelDetails.Read<Details>(transformer, nameof(LabelSpreadingModel)), [], [], []);

    /// <summary>What the ONNX graph stores of the model besides the training rows.</summary>
    internal sealed record Details(string[] ClassNames, LabelSpreadingKernel Kernel, int NumberOfNeighbors, double Gamma, double Alpha, bool HardClamping, int Iterations, bool Converged,
        bool Standardized, double[] Mean, double[] Sd, int TrainingRowCount, int LabeledRowCount, int UnlabeledRowCount, int UnreachedRowCount,
        double? UnknownThreshold, string[] Notes);

    internal Details ToDetails() => D;

    internal double[] Mean => D.Mean;

    internal double[] Sd => D.Sd;

    /// <summary>The training rows' scaled features, [TrainingRowCount, FeatureCount] row-major.</summary>
    internal double[] TrainingFeatures { get; }

    /// <summary>The training rows' normalised label distributions, [TrainingRowCount, K] row-major.</summary>
    internal double[] Distributions { get; }
}
