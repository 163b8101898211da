namespace Microsoft.ML.PaperExtensions.Runtime;

/// <summary>
/// Cancellation and progress for the fits of this package's trainers that run inside the scope, also those ML.NET starts for
/// a pipeline: <c>pipeline.Fit(data)</c> has no token of its own.
/// </summary>
/// <remarks>
/// The scope flows with the execution context (across <c>await</c> and into <c>Task.Run</c>) and nests: the innermost scope
/// wins until it is disposed. Parallel work in separate scopes (AutoML trials) keeps separate tokens. A trainer's own
/// <c>Fit(data, cancellationToken, progress)</c> overload ignores the scope. ML.NET's own trainers in the same pipeline do not
/// see the token; the check happens when one of ours starts and between its steps.
/// </remarks>
/// <example>
/// <code>
/// using (TrainingScope.Begin(cancellation.Token, new Progress&lt;TrainingProgress&gt;(p =&gt; Console.WriteLine(p))))
/// {
///     var model = pipeline.Fit(data);
/// }
/// </code>
/// </example>
public sealed class TrainingScope : IDisposable
{
    private static readonly AsyncLocal<TrainingScope?> Active = new();
    private readonly TrainingScope? _outer;
    private bool _disposed;

    private TrainingScope(CancellationToken cancellationToken, IProgress<TrainingProgress>? progress, TrainingScope? outer)
    {
        CancellationToken = cancellationToken;
        Progress = progress;
        _outer = outer;
    }

    /// <summary>Starts a scope; dispose it to end it.</summary>
    public static TrainingScope Begin(CancellationToken cancellationToken, IProgress<TrainingProgress>? progress = null)
    {
        var scope = new TrainingScope(cancellationToken, progress, Active.Value);
        Active.Value = scope;
        return scope;
    }

    /// <summary>The innermost scope of the current execution context, or null.</summary>
    public static TrainingScope? Current => Active.Value;

    /// <summary>The token that cancels the fits inside the scope.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>Where the fits inside the scope report progress, or null.</summary>
    public IProgress<TrainingProgress>? Progress { get; }

    /// <summary>Ends the scope: the enclosing one (or none) applies again.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (ReferenceEquals(Active.Value, this))
        {
            Active.Value = _outer;
        }
    }
}
