using Microsoft.ML.PaperExtensions.AutoML;

namespace Microsoft.ML.PaperExtensions;

/// <summary>
/// The entry to this package's AutoML engine: <c>mlContext.PaperAutoML()</c> (Microsoft.ML.AutoML's is <c>mlContext.Auto()</c>;
/// the two live side by side). The Trainers package adds one-call experiments per task to it.
/// </summary>
public sealed class PaperAutoMLCatalog : TaskCatalogBase
{
    internal PaperAutoMLCatalog(MLContext mlContext) : base(mlContext)
    {
    }

    /// <summary>An empty experiment: set its pipeline, dataset and metric, then <c>RunAsync</c>.</summary>
    public AutoMLExperiment CreateExperiment() => new(Context);
}

/// <summary>The <c>mlContext.PaperAutoML()</c> entry point.</summary>
public static class PaperAutoMLCatalogExtensions
{
    /// <summary>Searches of trainers and their options: search spaces, tuners, trial runners and experiments.</summary>
    public static PaperAutoMLCatalog PaperAutoML(this MLContext mlContext) => new(mlContext);
}
