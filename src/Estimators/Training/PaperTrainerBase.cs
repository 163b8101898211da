using Microsoft.ML.PaperExtensions.Data;
using Microsoft.ML.PaperExtensions.Onnx;
using Microsoft.ML.PaperExtensions.Runtime;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions;

/// <summary>
/// The Fit skeleton every trainer of this package shares: argument and schema checks from one declaration of the input
/// columns, the per-fit <see cref="TrainingContext"/> (device, seed, progress, cancellation, threads), a dispose scope around
/// the whole fit, and the output schema from one declaration of the output columns.
/// </summary>
/// <typeparam name="TTransformer">The fitted transformer.</typeparam>
/// <remarks>
/// A trainer maps its mutable <c>Options</c> to an immutable settings object once, inside <see cref="FitCore"/>; nothing
/// below it reads the options. How to add a trainer: docs/architecture.md.
/// </remarks>
public abstract class PaperTrainerBase<TTransformer> : ICancellableEstimator<TTransformer> where TTransformer : class, ITransformer
{
    private protected PaperTrainerBase(MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        MLContext = mlContext;
    }

    private protected MLContext MLContext { get; }

    /// <summary>The columns the trainer reads, as its options name them.</summary>
    private protected abstract InputColumns InputColumns { get; }

    /// <summary>The columns the fitted transformer adds, as its options define them.</summary>
    private protected abstract IReadOnlyList<PredictionColumn> OutputColumns { get; }

    /// <summary>The device and seed the options ask for.</summary>
    private protected abstract (ComputeDevice Device, int? Seed) Runtime { get; }

    /// <summary>Reads the data and fits; runs inside a dispose scope after the schema was checked.</summary>
    private protected abstract TTransformer FitCore(IDataView input, TrainingContext context);

    /// <summary>Fits the model; inside a <see cref="TrainingScope"/> it reports progress there and stops when cancelled.</summary>
    public TTransformer Fit(IDataView input)
    {
        var scope = TrainingScope.Current;
        return Fit(input, scope?.CancellationToken ?? CancellationToken.None, scope?.Progress);
    }

    /// <inheritdoc />
    public TTransformer Fit(IDataView input, CancellationToken cancellationToken, IProgress<TrainingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        InputColumns.Check(input.Schema);
        cancellationToken.ThrowIfCancellationRequested();
        var (device, seed) = Runtime;
        var context = new TrainingContext(MLContext, GetType().Name, device, seed, progress, cancellationToken);
        using (TorchFinalizerGate.Enter())
        using (NewDisposeScope())
        {
            return FitCore(input, context);
        }
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        InputColumns.Check(inputSchema);
        return SchemaShapes.With(inputSchema, OutputColumns.Select(c => c.Shape()).ToArray());
    }
}
