using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.PaperExtensions.Text;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.FineTuning;

/// <summary>An adapter as Hugging Face PEFT stores it: its settings, its tensors by PEFT key, and the extra modules saved whole.</summary>
internal sealed record PeftAdapter(AdapterSettings Settings, IReadOnlyDictionary<string, Tensor> Tensors, IReadOnlyList<string> ModulesToSave, string Folder);

/// <summary>
/// Reads and writes Hugging Face PEFT LoRA folders (<c>adapter_model.safetensors</c>, <c>adapter_config.json</c>; spec section 7).
/// Keys are <c>base_model.model.[bert.]&lt;path&gt;.lora_A.weight</c>, <c>.lora_B.weight</c>, <c>.lora_magnitude_vector</c> (DoRA),
/// and <c>base_model.model.&lt;module&gt;.weight</c> for modules saved whole (a classifier). ALLoRA is written as plain LoRA
/// with lora_alpha = r (scale 1) and no dropout, which computes the same function.
/// </summary>
internal static class PeftAdapterFile
{
    public const string WeightsFile = "adapter_model.safetensors";
    public const string ConfigFile = "adapter_config.json";
    private const string Root = "base_model.model.";

    /// <param name="folder">Created if needed; existing adapter files are replaced.</param>
    /// <param name="adapters">The adapters to write.</param>
    /// <param name="modulesToSave">Whole modules to save beside them, by parameter path (<c>classifier.weight</c>).</param>
    /// <param name="encoderPrefix">Put before encoder paths: <c>bert.</c> for a BertForSequenceClassification-shaped model, empty for a bare encoder.</param>
    /// <param name="baseModel">Written as base_model_name_or_path.</param>
    public static void Save(string folder, AdapterSnapshot adapters, IReadOnlyDictionary<string, EncoderTensor> modulesToSave, string encoderPrefix, string baseModel)
    {
        Directory.CreateDirectory(folder);
        var tensors = new List<(string, EncoderTensor)>();
        foreach (var (path, module) in adapters.Modules.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            tensors.Add(($"{Root}{encoderPrefix}{path}.lora_A.weight", module.A));
            tensors.Add(($"{Root}{encoderPrefix}{path}.lora_B.weight", module.B));
            if (module.Magnitude is { } m) tensors.Add(($"{Root}{encoderPrefix}{path}.lora_magnitude_vector", m));
        }
        foreach (var (path, tensor) in modulesToSave) tensors.Add((Root + path, tensor));
        SafetensorsWriter.Write(Path.Combine(folder, WeightsFile), tensors);

        var s = adapters.Settings;
        bool allora = s.Kind == AdapterKind.AlLora;
        var config = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = modulesToSave.Count > 0 ? "SEQ_CLS" : "FEATURE_EXTRACTION",
            ["base_model_name_or_path"] = baseModel,
            ["r"] = s.Rank,
            ["lora_alpha"] = allora ? s.Rank : s.Alpha,
            ["lora_dropout"] = allora ? 0 : s.Dropout,
            ["target_modules"] = new JsonArray(s.TargetModules.Select(t => (JsonNode)t).ToArray()),
            ["bias"] = "none",
            ["use_rslora"] = s.Kind == AdapterKind.RsLora,
            ["use_dora"] = s.Kind == AdapterKind.Dora,
            ["fan_in_fan_out"] = false,
            ["init_lora_weights"] = true,
            ["modules_to_save"] = new JsonArray(modulesToSave.Keys.Select(k => (JsonNode)k[..k.LastIndexOf('.')]).Distinct().ToArray()),
            ["rank_pattern"] = new JsonObject(),
            ["alpha_pattern"] = new JsonObject(),
        };
        File.WriteAllText(Path.Combine(folder, ConfigFile), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <exception cref="FileNotFoundException">A file of the folder is missing.</exception>
    /// <exception cref="InvalidDataException">The config is not a LoRA config this package can apply; the message names the field.</exception>
    public static PeftAdapter Read(string folder)
    {
        string configPath = Path.Combine(folder, ConfigFile), weightsPath = Path.Combine(folder, WeightsFile);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"Adapter folder '{folder}' has no {ConfigFile}.", configPath);
        if (!File.Exists(weightsPath)) throw new FileNotFoundException($"Adapter folder '{folder}' has no {WeightsFile}.", weightsPath);
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        InvalidDataException Invalid(string message) => new($"{configPath}: {message}");
        if ((string?)config["peft_type"] != "LORA") throw Invalid($"peft_type '{config["peft_type"]}' is not LORA.");
        if (config["fan_in_fan_out"]?.GetValue<bool>() == true) throw Invalid("fan_in_fan_out = true (GPT-2 Conv1D layout) is not a BERT Linear layout.");
        if (config["init_lora_weights"] is JsonValue init && init.TryGetValue<string>(out var method)) throw Invalid($"init_lora_weights '{method}' changes the base weights; only adapters on unchanged weights can be applied.");
        foreach (var pattern in new[] { "rank_pattern", "alpha_pattern" })
            if (config[pattern] is JsonObject o && o.Count > 0) throw Invalid($"{pattern} (per-module ranks or alphas) is not supported.");
        if (config["bias"] is JsonValue bias && (string?)bias != "none") throw Invalid($"bias '{bias}' (trained biases) is not supported.");
        var targets = config["target_modules"] switch
        {
            JsonArray a => a.Select(t => (string)t!).ToList(),
            JsonValue v => [(string)v!],
            _ => throw Invalid("target_modules is missing."),
        };
        int rank = config["r"]?.GetValue<int>() ?? 8;
        var kind = config["use_dora"]?.GetValue<bool>() == true ? AdapterKind.Dora : config["use_rslora"]?.GetValue<bool>() == true ? AdapterKind.RsLora : AdapterKind.Lora;
        var settings = new AdapterSettings(kind, rank, config["lora_alpha"]?.GetValue<double>() ?? 8, config["lora_dropout"]?.GetValue<double>() ?? 0, 2, targets);
        var modulesToSave = config["modules_to_save"] is JsonArray m ? m.Select(t => (string)t!).ToList() : [];

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in Safetensors.LoadStateDict(weightsPath))
        {
            if (!key.StartsWith(Root, StringComparison.Ordinal)) throw new InvalidDataException($"{weightsPath}: key '{key}' does not start with '{Root}'.");
            var name = key[Root.Length..];
            tensors[name.StartsWith("bert.", StringComparison.Ordinal) ? name["bert.".Length..] : name] = tensor;
        }
        return new PeftAdapter(settings, tensors, modulesToSave, folder);
    }

    /// <summary>Copies the adapter's tensors into attached adapters of the same settings.</summary>
    /// <exception cref="InvalidDataException">A tensor is missing, left over, or of another shape than the model's; the message names it.</exception>
    public static void LoadInto(EncoderAdapters adapters, PeftAdapter adapter)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        using var grad = no_grad();
        foreach (var (path, module) in adapters.Modules)
        {
            Copy($"{path}.lora_A.weight", module.A);
            Copy($"{path}.lora_B.weight", module.B);
            if (module.Magnitude is { } m) Copy($"{path}.lora_magnitude_vector", m);
        }
        var unused = adapter.Tensors.Keys.Where(k => !used.Contains(k) && !adapter.ModulesToSave.Any(s => k.StartsWith(s + ".", StringComparison.Ordinal))).ToList();
        if (unused.Count > 0)
            throw new InvalidDataException($"{adapter.Folder}: adapter tensors match no Linear of this model: {string.Join(", ", unused.Take(5))}{(unused.Count > 5 ? ", ..." : "")}.");

        void Copy(string name, Tensor target)
        {
            if (!adapter.Tensors.TryGetValue(name, out var source))
                throw new InvalidDataException($"{adapter.Folder}: tensor '{name}' is missing (the model has [{string.Join(", ", target.shape)}]).");
            if (!source.shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"{adapter.Folder}: tensor '{name}' has shape [{string.Join(", ", source.shape)}], but this model needs [{string.Join(", ", target.shape)}].");
            target.copy_(source);
            used.Add(name);
        }
    }
}
