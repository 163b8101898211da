namespace Microsoft.ML.PaperExtensions.Runtime;

/// <summary>
/// TorchSharp's native libraries could not be loaded. The message names the file that failed, why, and the fix.
/// </summary>
public sealed class TorchRuntimeException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public TorchRuntimeException(string message, Exception? innerException = null) : base(message, innerException) { }
}
