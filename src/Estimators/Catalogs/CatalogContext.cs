using System.Reflection;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.PaperExtensions;

/// <summary>An MLContext for extension methods that hang off ML.NET's own catalogs (<c>mlContext.Transforms.Text</c>, ...).</summary>
internal static class CatalogContext
{
    /// <summary>
    /// ML.NET's catalogs hold the context's environment (an internal interface), not the MLContext itself. This returns a
    /// context whose seed is drawn from that environment (so a seeded MLContext gives the same fits), whose GPU settings are
    /// the user's, and whose Info and Warning messages are passed on to the user's <c>MLContext.Log</c>.
    /// </summary>
    public static MLContext Of(object catalog)
    {
        var internalCatalog = typeof(MLContext).Assembly.GetType("Microsoft.ML.Data.IInternalCatalog");
        if (internalCatalog?.GetProperty("Environment")?.GetValue(catalog) is not IHostEnvironment environment) return new MLContext();
        if (environment is MLContext context) return context;
        var host = environment.Register("Microsoft.ML.PaperExtensions");
        var settings = environment.GetType().GetInterfaces().FirstOrDefault(i => i.Name == "IHostEnvironmentInternal");
        var ml = new MLContext(seed: host.Rand.Next())
        {
            GpuDeviceId = settings?.GetProperty("GpuDeviceId")?.GetValue(environment) as int?,
            FallbackToCpu = settings?.GetProperty("FallbackToCpu")?.GetValue(environment) as bool? ?? true,
        };
        ml.Log += (_, e) =>
        {
            if (e.Kind is not (ChannelMessageKind.Info or ChannelMessageKind.Warning)) return;
            using var channel = host.Start(e.Source);
            if (e.Kind == ChannelMessageKind.Warning) channel.Warning(MessageSensitivity.None, e.RawMessage);
            else channel.Info(MessageSensitivity.None, e.RawMessage);
        };
        return ml;
    }
}
