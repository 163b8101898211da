using Microsoft.ML.PaperExtensions.Survival;

namespace Microsoft.ML.PaperExtensions;

/// <summary>The survival trainer: <c>mlContext.Survival().Trainers.FlexibleParametric(...)</c>.</summary>
public static class SurvivalCatalogExtensions
{
    /// <summary>APGW flexible parametric survival regression with free kappa and the given covariates on the PH scale.</summary>
    /// <param name="catalog">The survival trainers catalog.</param>
    /// <param name="timeColumnName">Observed time, &gt; 0.</param>
    /// <param name="eventColumnName">Event indicator: Boolean or 0/1.</param>
    /// <param name="phFeatureColumnNames">Covariates on the PH scale lambda.</param>
    public static FlexibleSurvivalTrainer FlexibleParametric(this TrainerCatalog<SurvivalCatalog> catalog, string timeColumnName = "Time",
        string eventColumnName = "Event", params string[] phFeatureColumnNames) =>
        FlexibleParametric(catalog, new FlexibleSurvivalTrainer.Options
        {
            TimeColumnName = timeColumnName,
            EventColumnName = eventColumnName,
            PhFeatureColumnNames = phFeatureColumnNames,
        });

    /// <summary>APGW flexible parametric survival regression with every option.</summary>
    public static FlexibleSurvivalTrainer FlexibleParametric(this TrainerCatalog<SurvivalCatalog> catalog, FlexibleSurvivalTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new FlexibleSurvivalTrainer(catalog.Context, options);
    }
}
