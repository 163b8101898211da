using System.Collections;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Text;

/// <summary>
/// Reads a Hugging Face model folder: <c>config.json</c> and <c>model.safetensors</c> or <c>pytorch_model.bin</c>
/// (through TorchSharp.PyBridge). Names are brought to <c>BertModel</c>'s: a <c>bert.</c> prefix is dropped, old
/// LayerNorm <c>gamma</c>/<c>beta</c> become <c>weight</c>/<c>bias</c>; task heads (<c>cls.*</c>, <c>classifier.*</c>) and
/// buffers such as <c>position_ids</c> are left out.
/// </summary>
internal static class HuggingFaceCheckpoint
{
    public static EncoderCheckpoint Read(string folder)
    {
        string configPath = Path.Combine(folder, "config.json");
        if (!File.Exists(configPath))
            throw new FileNotFoundException($"Model folder '{folder}' has no config.json (a Hugging Face folder needs config.json with model.safetensors or pytorch_model.bin).", configPath);
        var config = BertConfig.Read(configPath);

        string safetensors = Path.Combine(folder, "model.safetensors"), pickle = Path.Combine(folder, "pytorch_model.bin");
        string weightsPath = File.Exists(safetensors) ? safetensors
            : File.Exists(pickle) ? pickle
            : throw new FileNotFoundException($"Model folder '{folder}' has config.json but neither model.safetensors nor pytorch_model.bin.", safetensors);

        var raw = ReadTensors(weightsPath);
        var tensors = new Dictionary<string, EncoderTensor>();
        try
        {
            foreach (var (name, tensor) in raw)
            {
                string hfName = EncoderName(name);
                if (!IsEncoderTensor(hfName)) continue;
                if (!is_floating_point(tensor))
                    throw new InvalidDataException($"{weightsPath}: tensor '{name}' has type {tensor.dtype}, a floating-point weight was expected.");
                using var single = tensor.to_type(ScalarType.Float32).contiguous();
                if (!tensors.TryAdd(hfName, new EncoderTensor(single.shape, single.data<float>().ToArray())))
                    throw new InvalidDataException($"{weightsPath}: two tensors map to '{hfName}' (one is '{name}').");
            }
        }
        finally
        {
            foreach (var tensor in raw.Values) tensor.Dispose();
        }
        var checkpoint = new EncoderCheckpoint(config, tensors, weightsPath);
        checkpoint.Validate();
        return checkpoint;
    }

    private static Dictionary<string, Tensor> ReadTensors(string path)
    {
        try
        {
            if (path.EndsWith(".safetensors", StringComparison.Ordinal)) return Safetensors.LoadStateDict(path);
            var table = PyTorchUnpickler.UnpickleStateDict(path);
            var result = new Dictionary<string, Tensor>();
            foreach (DictionaryEntry entry in table)
                if (entry.Value is Tensor t) result[(string)entry.Key] = t;
            return result;
        }
        catch (Exception e) when (e is not InvalidDataException and not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path}: could not read the weights ({e.GetType().Name}: {e.Message}).", e);
        }
    }

    internal static string EncoderName(string name)
    {
        if (name.StartsWith("bert.", StringComparison.Ordinal)) name = name["bert.".Length..];
        if (name.EndsWith(".gamma", StringComparison.Ordinal)) return name[..^".gamma".Length] + ".weight";
        if (name.EndsWith(".beta", StringComparison.Ordinal)) return name[..^".beta".Length] + ".bias";
        return name;
    }

    private static bool IsEncoderTensor(string name) =>
        (name.StartsWith("embeddings.", StringComparison.Ordinal) && !name.EndsWith("position_ids", StringComparison.Ordinal))
        || name.StartsWith("encoder.", StringComparison.Ordinal)
        || name.StartsWith("pooler.", StringComparison.Ordinal);
}
