namespace Microsoft.ML.PaperExtensions;

/// <summary>
/// Semi-supervised classification. Get it with <c>mlContext.SemiSupervised()</c>. Its models emit ML.NET's multiclass
/// columns, so <c>mlContext.MulticlassClassification.Evaluate</c> scores them.
/// </summary>
public sealed class SemiSupervisedCatalog : TaskCatalogBase
{
    internal SemiSupervisedCatalog(MLContext mlContext) : base(mlContext) => Trainers = new TrainerCatalog<SemiSupervisedCatalog>(this);

    /// <summary>Semi-supervised trainers.</summary>
    public TrainerCatalog<SemiSupervisedCatalog> Trainers { get; }
}
