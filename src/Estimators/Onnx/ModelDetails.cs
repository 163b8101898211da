using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Transforms.Onnx;

namespace Microsoft.ML.PaperExtensions.Onnx;

/// <summary>
/// A fitted model's learned parameters stored with its ONNX graph (as JSON in the model's <c>metadata_props</c>, which ONNX
/// Runtime and ML.NET keep), so that a model loaded from a zip years later can still be inspected: after
/// <c>mlContext.Model.Load</c> a pipeline is a chain of ML.NET's own transformers, and this reads the details back from the
/// <c>OnnxTransformer</c> in it.
/// </summary>
internal static class ModelDetails
{
    private const string Prefix = "Microsoft.ML.PaperExtensions.";

    private static readonly JsonSerializerOptions Json = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        IncludeFields = false,
    };

    // ML.NET 5.0.1 keeps the ONNX Runtime session of a loaded OnnxTransformer internal; these two reads are the one place
    // that depends on that, and they fail with a clear message on another version.
    private static readonly FieldInfo? ModelField = typeof(OnnxTransformer).GetField("Model", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public);

    /// <summary>Stores <paramref name="details"/> in the graph under the component's name.</summary>
    public static void Write<T>(OnnxGraphBuilder graph, string component, T details) =>
        graph.SetMetadata(Prefix + component, JsonSerializer.Serialize(details, Json));

    /// <summary>
    /// The details a component stored, read from <paramref name="transformer"/>: one of this package's transformers, a loaded
    /// chain that holds its <c>OnnxTransformer</c>, or that <c>OnnxTransformer</c> itself.
    /// </summary>
    /// <exception cref="ArgumentException">No transformer in it holds details of <paramref name="component"/>.</exception>
    public static T Read<T>(ITransformer transformer, string component)
    {
        ArgumentNullException.ThrowIfNull(transformer);
        foreach (var metadata in Metadata(transformer))
        {
            if (metadata.TryGetValue(Prefix + component, out var json))
            {
                return JsonSerializer.Deserialize<T>(json, Json) ?? throw new InvalidDataException($"The stored {component} details are empty.");
            }
        }
        throw new ArgumentException($"The transformer holds no {component}: it was not fitted by Microsoft.ML.PaperExtensions, or saved by a version before 0.2.", nameof(transformer));
    }

    /// <summary>The whole ONNX model that stored details of <paramref name="component"/> (its weights included), read from <paramref name="transformer"/> as <see cref="Read{T}"/> finds it.</summary>
    /// <exception cref="ArgumentException">No transformer in it holds details of <paramref name="component"/>.</exception>
    public static global::Onnx.ModelProto Graph(ITransformer transformer, string component)
    {
        ArgumentNullException.ThrowIfNull(transformer);
        foreach (var (metadata, graph) in Sources(transformer))
        {
            if (metadata.ContainsKey(Prefix + component)) return graph();
        }
        throw new ArgumentException($"The transformer holds no {component}: it was not fitted by Microsoft.ML.PaperExtensions, or saved by a version before 0.2.", nameof(transformer));
    }

    private static IEnumerable<IReadOnlyDictionary<string, string>> Metadata(ITransformer transformer) => Sources(transformer).Select(s => s.Metadata);

    private static IEnumerable<(IReadOnlyDictionary<string, string> Metadata, Func<global::Onnx.ModelProto> Graph)> Sources(ITransformer transformer)
    {
        switch (transformer)
        {
            case OnnxBackedTransformer ours:
                yield return (ours.OnnxModel.MetadataProps.ToDictionary(p => p.Key, p => p.Value), () => ours.OnnxModel);
                break;
            case OnnxTransformer onnx:
                yield return (Session(onnx).ModelMetadata.CustomMetadataMap, () => global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(ModelFile(onnx))));
                break;
            case IEnumerable<ITransformer> chain:
                foreach (var inner in chain)
                {
                    foreach (var source in Sources(inner)) yield return source;
                }
                break;
        }
    }

    /// <summary>The file a loaded <c>OnnxTransformer</c> keeps its model in (ML.NET writes it there when loading, and reads it back when saving).</summary>
    private static string ModelFile(OnnxTransformer transformer)
    {
        var model = ModelField?.GetValue(transformer);
        var stream = model?.GetType().GetProperty("ModelStream", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)?.GetValue(model) as FileStream;
        return stream?.Name ?? throw new MissingMemberException(
            "This version of ML.NET's OnnxTransformer does not expose its model file where Microsoft.ML.PaperExtensions looks for it (Microsoft.ML.OnnxTransformer 5.0.x is supported).");
    }

    private static InferenceSession Session(OnnxTransformer transformer)
    {
        var model = ModelField?.GetValue(transformer);
        var session = model?.GetType().GetField("_session", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(model) as InferenceSession;
        return session ?? throw new MissingMemberException(
            "This version of ML.NET's OnnxTransformer does not expose its ONNX Runtime session where Microsoft.ML.PaperExtensions looks for it (Microsoft.ML.OnnxTransformer 5.0.x is supported).");
    }
}
