namespace Microsoft.ML.PaperExtensions.FineTuning;

/// <summary>How adapters are shaped and scaled, fixed when they are attached.</summary>
/// <param name="Kind">The adapter family member.</param>
/// <param name="Rank">r, the inner dimension of B A.</param>
/// <param name="Alpha">LoRA's alpha: scale alpha / r (LoRA, DoRA) or alpha / sqrt(r) (rsLoRA); unused by ALLoRA.</param>
/// <param name="Dropout">Dropout on the adapter's input during training (LoRA, rsLoRA, DoRA; ALLoRA has none).</param>
/// <param name="Eta">ALLoRA's largest gradient factor (the paper's default eta^2 = 4).</param>
/// <param name="TargetModules">Names of the Linears to wrap, matched against the last part of their path (PEFT's rule).</param>
internal sealed record AdapterSettings(AdapterKind Kind, int Rank, double Alpha, double Dropout, double Eta, IReadOnlyList<string> TargetModules)
{
    /// <summary>gamma: the factor of B A in the forward.</summary>
    public double Scale => Kind switch
    {
        AdapterKind.AlLora => 1,
        AdapterKind.RsLora => Alpha / Math.Sqrt(Rank),
        _ => Alpha / Rank,
    };
}
