using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Text.Modules;

/// <summary>Re-registers a submodule under its state-dict name after its field was given a new module.</summary>
internal static class ModuleReplacement
{
    public static void Register(nn.Module owner, string name, nn.Module module)
    {
        owner.register_module(name, null!);   // TorchSharp removes a name registered with null
        owner.register_module(name, module);
    }
}
