using Microsoft.ML.PaperExtensions.Text;
using Microsoft.ML.PaperExtensions.Text.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.FineTuning;

/// <summary>
/// Adapters attached to an encoder: every Linear whose name (the last part of its path, PEFT's rule) is a target is wrapped
/// in a <see cref="LoraLinear"/>; every other parameter of the encoder is frozen.
/// </summary>
internal sealed class EncoderAdapters
{
    /// <summary>The names a target may have: the projections of a BERT layer.</summary>
    public static readonly IReadOnlyList<string> ValidTargets = ["query", "key", "value", "dense"];

    private EncoderAdapters(AdapterSettings settings, IReadOnlyDictionary<string, LoraLinear> modules)
    {
        Settings = settings;
        Modules = modules;
    }

    public AdapterSettings Settings { get; }

    /// <summary>The adapters by the path of the Linear they wrap (<c>encoder.layer.0.attention.self.query</c>).</summary>
    public IReadOnlyDictionary<string, LoraLinear> Modules { get; }

    /// <exception cref="ArgumentException">A target is not one of <see cref="ValidTargets"/> (the message lists them).</exception>
    public static EncoderAdapters Attach(BertModel model, AdapterSettings settings, Generator? generator = null)
    {
        var unknown = settings.TargetModules.Where(t => !ValidTargets.Contains(t)).ToList();
        if (settings.TargetModules.Count == 0 || unknown.Count > 0)
            throw new ArgumentException($"Target modules {(unknown.Count > 0 ? "'" + string.Join("', '", unknown) + "' are" : "are empty:")} not Linears of a BERT layer; valid names: {string.Join(", ", ValidTargets)}.",
                "TargetModules");
        foreach (var p in model.parameters()) p.requires_grad = false;
        var modules = new Dictionary<string, LoraLinear>(StringComparer.Ordinal);
        foreach (var (path, module, replace) in model.Linears().ToList())
        {
            if (!settings.TargetModules.Contains(path[(path.LastIndexOf('.') + 1)..])) continue;
            var linear = (Linear)module;
            var adapter = new LoraLinear(linear.weight!, linear.bias, settings, generator);
            replace(adapter);
            modules[path] = adapter;
        }
        return new EncoderAdapters(settings, modules);
    }

    /// <summary>Copies of the adapters' tensors in managed memory (they outlive the fit's dispose scope).</summary>
    public AdapterSnapshot Snapshot()
    {
        static EncoderTensor Copy(Tensor t)
        {
            using var values = t.detach().to_type(ScalarType.Float32).cpu().contiguous();
            return new EncoderTensor(values.shape, values.data<float>().ToArray());
        }
        return new AdapterSnapshot(Settings, Modules.ToDictionary(m => m.Key, m => new AdapterTensors(Copy(m.Value.A), Copy(m.Value.B), m.Value.Magnitude is { } g ? Copy(g) : null)));
    }

    /// <summary>The checkpoint with every wrapped weight replaced by its merged weight (biases unchanged): what prediction runs.</summary>
    public EncoderCheckpoint Merge(EncoderCheckpoint checkpoint)
    {
        var tensors = new Dictionary<string, EncoderTensor>(checkpoint.Tensors, StringComparer.Ordinal);
        foreach (var (path, adapter) in Modules)
        {
            using var merged = adapter.MergedWeight().to_type(ScalarType.Float32).cpu().contiguous();
            tensors[path + ".weight"] = new EncoderTensor(merged.shape, merged.data<float>().ToArray());
        }
        return checkpoint with { Tensors = tensors };
    }
}

/// <summary>One adapter's A [r, in], B [out, r] and DoRA's magnitude [out].</summary>
internal sealed record AdapterTensors(EncoderTensor A, EncoderTensor B, EncoderTensor? Magnitude);

/// <summary>Trained adapters by the path of the Linear they wrap, with their settings.</summary>
internal sealed record AdapterSnapshot(AdapterSettings Settings, IReadOnlyDictionary<string, AdapterTensors> Modules);
