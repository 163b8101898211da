using Microsoft.ML.PaperExtensions.SemiSupervised;

namespace Microsoft.ML.PaperExtensions;

/// <summary>The semi-supervised trainers: <c>mlContext.SemiSupervised().Trainers.Wad(...)</c>, <c>.LabelSpreading(...)</c>, <c>.LabelPropagation(...)</c>.</summary>
public static class SemiSupervisedCatalogExtensions
{
    /// <summary>WAD with its defaults: rows whose label is missing are the unlabelled rows.</summary>
    /// <param name="catalog">The semi-supervised trainers catalog.</param>
    /// <param name="labelColumnName">Key (missing key = unlabelled), Single/Double (NaN = unlabelled) or text (empty = unlabelled).</param>
    /// <param name="featureColumnName">Single or Double features, scalar or known-size vector.</param>
    /// <param name="method">WAD, or a baseline with the same student.</param>
    /// <param name="seed">The seed; null draws it from the MLContext.</param>
    public static WadTrainer Wad(this TrainerCatalog<SemiSupervisedCatalog> catalog, string labelColumnName = ColumnNames.Label,
        string featureColumnName = ColumnNames.Features, SemiSupervisedMethod method = SemiSupervisedMethod.Wad, int? seed = null) =>
        Wad(catalog, new WadTrainer.Options
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            Method = method,
            Seed = seed,
        });

    /// <summary>WAD with every option.</summary>
    public static WadTrainer Wad(this TrainerCatalog<SemiSupervisedCatalog> catalog, WadTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new WadTrainer(catalog.Context, options);
    }

    /// <summary>Label spreading with its defaults (kNN graph, k = 7, alpha = 0.2): rows whose label is missing are the unlabelled rows.</summary>
    /// <param name="catalog">The semi-supervised trainers catalog.</param>
    /// <param name="labelColumnName">Key (missing key = unlabelled), Single/Double (NaN = unlabelled) or text (empty = unlabelled).</param>
    /// <param name="featureColumnName">Single or Double features, scalar or known-size vector.</param>
    /// <param name="numberOfNeighbors">k of the kNN graph, the row itself included.</param>
    /// <param name="alpha">The spreading factor in (0, 1).</param>
    public static LabelSpreadingTrainer LabelSpreading(this TrainerCatalog<SemiSupervisedCatalog> catalog, string labelColumnName = ColumnNames.Label,
        string featureColumnName = ColumnNames.Features, int numberOfNeighbors = 7, double alpha = 0.2) =>
        LabelSpreading(catalog, new LabelSpreadingTrainer.Options
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            NumberOfNeighbors = numberOfNeighbors,
            Alpha = alpha,
        });

    /// <summary>
    /// Label propagation (Zhu and Ghahramani, 2002; scikit-learn's <c>LabelPropagation</c>): label spreading's trainer with
    /// hard clamping (the labelled rows keep their labels exactly), a kNN graph and up to 1,000 iterations.
    /// </summary>
    /// <param name="catalog">The semi-supervised trainers catalog.</param>
    /// <param name="labelColumnName">Key (missing key = unlabelled), Single/Double (NaN = unlabelled) or text (empty = unlabelled).</param>
    /// <param name="featureColumnName">Single or Double features, scalar or known-size vector.</param>
    /// <param name="numberOfNeighbors">k of the kNN graph, the row itself included.</param>
    public static LabelSpreadingTrainer LabelPropagation(this TrainerCatalog<SemiSupervisedCatalog> catalog, string labelColumnName = ColumnNames.Label,
        string featureColumnName = ColumnNames.Features, int numberOfNeighbors = 7) =>
        LabelSpreading(catalog, new LabelSpreadingTrainer.Options
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            NumberOfNeighbors = numberOfNeighbors,
            HardClamping = true,
            MaximumNumberOfIterations = 1000,
        });

    /// <summary>Label spreading (or, with <c>HardClamping</c>, label propagation) with every option.</summary>
    public static LabelSpreadingTrainer LabelSpreading(this TrainerCatalog<SemiSupervisedCatalog> catalog, LabelSpreadingTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new LabelSpreadingTrainer(catalog.Context, options);
    }
}
