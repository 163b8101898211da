using Microsoft.ML.PaperExtensions.Ordinal;

namespace Microsoft.ML.PaperExtensions;

/// <summary>The ordinal trainers: <c>mlContext.Ordinal().Trainers.Presto(...)</c> and <c>.ProportionalOdds(...)</c>.</summary>
public static class OrdinalCatalogExtensions
{
    /// <summary>PRESTO with lambda chosen by 5-fold cross-validation (or the given <paramref name="lambda"/>).</summary>
    /// <param name="catalog">The ordinal trainers catalog.</param>
    /// <param name="labelColumnName">A key column (key order = class order) or an ordered numeric or Boolean column.</param>
    /// <param name="featureColumnName">Single or Double features, scalar or known-size vector.</param>
    /// <param name="exampleWeightColumnName">Optional example weights.</param>
    /// <param name="lambda">The penalty strength; null chooses it by cross-validation.</param>
    public static PrestoTrainer Presto(this TrainerCatalog<OrdinalCatalog> catalog, string labelColumnName = ColumnNames.Label,
        string featureColumnName = ColumnNames.Features, string? exampleWeightColumnName = null, double? lambda = null) =>
        Presto(catalog, new PrestoTrainer.Options
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            ExampleWeightColumnName = exampleWeightColumnName,
            Lambda = lambda,
        });

    /// <summary>PRESTO with every option.</summary>
    public static PrestoTrainer Presto(this TrainerCatalog<OrdinalCatalog> catalog, PrestoTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new PrestoTrainer(catalog.Context, options);
    }

    /// <summary>The proportional-odds model by maximum likelihood.</summary>
    /// <param name="catalog">The ordinal trainers catalog.</param>
    /// <param name="labelColumnName">A key column (key order = class order) or an ordered numeric or Boolean column.</param>
    /// <param name="featureColumnName">Single or Double features, scalar or known-size vector.</param>
    /// <param name="exampleWeightColumnName">Optional example weights.</param>
    public static ProportionalOddsTrainer ProportionalOdds(this TrainerCatalog<OrdinalCatalog> catalog, string labelColumnName = ColumnNames.Label,
        string featureColumnName = ColumnNames.Features, string? exampleWeightColumnName = null) =>
        ProportionalOdds(catalog, new ProportionalOddsTrainer.Options
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            ExampleWeightColumnName = exampleWeightColumnName,
        });

    /// <summary>The proportional-odds model with every option.</summary>
    public static ProportionalOddsTrainer ProportionalOdds(this TrainerCatalog<OrdinalCatalog> catalog, ProportionalOddsTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new ProportionalOddsTrainer(catalog.Context, options);
    }
}
