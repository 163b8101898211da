namespace Microsoft.ML.PaperExtensions;

/// <summary>
/// Entry points of Microsoft.ML.PaperExtensions on <see cref="MLContext"/>, in the style of <c>mlContext.Auto()</c>:
/// <c>mlContext.Ordinal()</c>, <c>mlContext.Survival()</c>, <c>mlContext.SemiSupervised()</c>.
/// Trainers are added to each catalog's <c>Trainers</c> by the Microsoft.ML.PaperExtensions.Trainers package.
/// </summary>
public static class PaperExtensionsCatalogs
{
    /// <summary>Ordinal regression: ordered classes, where the last class is often the rare one that matters.</summary>
    public static OrdinalCatalog Ordinal(this MLContext mlContext) => new(mlContext);

    /// <summary>Survival analysis: time-to-event data with censoring.</summary>
    public static SurvivalCatalog Survival(this MLContext mlContext) => new(mlContext);

    /// <summary>Semi-supervised classification: a few labelled rows and many unlabelled ones.</summary>
    public static SemiSupervisedCatalog SemiSupervised(this MLContext mlContext) => new(mlContext);
}

/// <summary>The base of a task catalog: holds the <see cref="MLContext"/> that trainers and evaluators use.</summary>
public abstract class TaskCatalogBase
{
    private protected TaskCatalogBase(MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        Context = mlContext;
    }

    /// <summary>The ML.NET context this catalog was created from.</summary>
    public MLContext Context { get; }
}

/// <summary>A catalog's <c>Trainers</c>: trainer packages add extension methods to it.</summary>
/// <typeparam name="TTask">The task catalog it belongs to.</typeparam>
public sealed class TrainerCatalog<TTask> where TTask : TaskCatalogBase
{
    internal TrainerCatalog(TTask task) => Task = task;

    /// <summary>The task catalog, and through it the <see cref="MLContext"/>.</summary>
    public TTask Task { get; }

    /// <summary>The ML.NET context.</summary>
    public MLContext Context => Task.Context;
}
