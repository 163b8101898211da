using Microsoft.ML.PaperExtensions.Text.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.FineTuning;

/// <summary>
/// A frozen Linear y = W x + b with a low-rank adapter: <c>lora_A</c> [r, in], <c>lora_B</c> [out, r] and, for DoRA,
/// <c>lora_magnitude_vector</c> [out] (PEFT's names). The frozen <c>weight</c> and <c>bias</c> keep the Linear's names, so the
/// encoder's state dict still holds them under their Hugging Face paths.
/// </summary>
internal sealed class LoraLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly Parameter lora_A;
    private readonly Parameter lora_B;
    private readonly Parameter? lora_magnitude_vector;
    private readonly AdapterSettings _settings;

    /// <summary>Wraps a Linear's weight [out, in] and bias; A is Kaiming-uniform (a = sqrt 5), B is zero, m is W's row norms.</summary>
    public LoraLinear(Tensor frozenWeight, Tensor? frozenBias, AdapterSettings settings, Generator? generator = null) : base(nameof(LoraLinear))
    {
        _settings = settings;
        long outputs = frozenWeight.shape[0], inputs = frozenWeight.shape[1];
        if (settings.Rank < 1 || settings.Rank > Math.Min(outputs, inputs))
            throw new ArgumentOutOfRangeException("Rank", settings.Rank, $"Rank {settings.Rank} must be between 1 and min(out, in) = {Math.Min(outputs, inputs)} of the wrapped Linear [{outputs}, {inputs}].");
        weight = new Parameter(frozenWeight.detach().clone(), requires_grad: false);
        if (frozenBias is not null) bias = new Parameter(frozenBias.detach().clone(), requires_grad: false);
        var a = empty(settings.Rank, inputs, dtype: frozenWeight.dtype, device: frozenWeight.device);
        // kaiming_uniform_(a = sqrt 5) on [r, in]: U(-1/sqrt(in), 1/sqrt(in)).
        using (no_grad()) a.uniform_(-1 / Math.Sqrt(inputs), 1 / Math.Sqrt(inputs), generator);
        lora_A = new Parameter(a);
        lora_B = new Parameter(zeros(outputs, settings.Rank, dtype: frozenWeight.dtype, device: frozenWeight.device));
        if (settings.Kind == AdapterKind.Dora)
        {
            using var norms = frozenWeight.detach().norm(1);
            lora_magnitude_vector = new Parameter(norms.clone());
        }
        RegisterComponents();
    }

    /// <summary>The generator of the dropout masks in training (null: libtorch's global one).</summary>
    public Generator? DropoutGenerator { get; set; }

    /// <summary>How ALLoRA's scaled gradients are formed: the detach trick (default) or the custom autograd function; same values.</summary>
    public AlLoraGradientPath AlLoraPath { get; set; } = AlLoraGradientPath.DetachTrick;

    /// <summary>The adapter's A [r, in].</summary>
    public Parameter A => lora_A;

    /// <summary>The adapter's B [out, r].</summary>
    public Parameter B => lora_B;

    /// <summary>DoRA's magnitude m [out]; null for the other kinds.</summary>
    public Parameter? Magnitude => lora_magnitude_vector;

    /// <summary>The frozen weight W [out, in].</summary>
    public Tensor Weight => weight;

    /// <summary>The frozen bias, if the Linear had one.</summary>
    public Tensor? Bias => bias;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        double gamma = _settings.Scale;
        var dropped = training && _settings.Dropout > 0 && _settings.Kind != AdapterKind.AlLora ? SeededDropout.Apply(x, _settings.Dropout, DropoutGenerator) : x;
        Tensor result;
        switch (_settings.Kind)
        {
            case AdapterKind.Dora:
            {
                // m / n with n = ||W + gamma B A|| per output row, detached (DoRA section 4.3; PEFT).
                var ratio = lora_magnitude_vector! / (weight + gamma * lora_B.matmul(lora_A)).norm(1).detach();
                var adapter = nn.functional.linear(nn.functional.linear(dropped, lora_A), lora_B) * gamma;
                result = ReferenceEquals(dropped, x)
                    ? ratio * (nn.functional.linear(x, weight) + adapter)
                    : nn.functional.linear(x, weight) + (ratio - 1) * nn.functional.linear(dropped, weight) + ratio * adapter;
                if (bias is not null) result = result + bias;
                break;
            }
            case AdapterKind.AlLora:
            {
                var s = RowFactors();
                if (AlLoraPath == AlLoraGradientPath.AutogradFunction)
                {
                    // Spec 5.2, option 1: one branch whose backward is 5.1 written out.
                    result = nn.functional.linear(x, weight, bias) + AlLoraFunction.apply(x, lora_A, lora_B, s);
                    break;
                }
                // Detach trick (spec 5.2, option 2): the value is B A x; x gets the plain gradient, A and B get it scaled by s per output row.
                var toX = nn.functional.linear(nn.functional.linear(x, lora_A.detach()), lora_B.detach());
                var toAdapter = nn.functional.linear(nn.functional.linear(x.detach(), lora_A), lora_B) * s;
                result = nn.functional.linear(x, weight, bias) + toX + toAdapter - toAdapter.detach();
                break;
            }
            default:
                result = nn.functional.linear(x, weight, bias) + nn.functional.linear(nn.functional.linear(dropped, lora_A), lora_B) * gamma;
                break;
        }
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// ALLoRA's s_i = 1 / sqrt(||(BA)_i|| + 1/eta^2), with the row norms from the Gram matrix A A^T (exact, O(r^2 (in + out)) instead
    /// of forming B A); no gradient flows through it.
    /// </summary>
    internal Tensor RowFactors()
    {
        using var grad = no_grad();
        var gram = lora_A.matmul(lora_A.t());
        var squared = (lora_B.matmul(gram) * lora_B).sum(1);
        return 1 / (squared.clamp_min(0).sqrt() + 1 / (_settings.Eta * _settings.Eta)).sqrt();
    }

    /// <summary>The weight with the adapter folded in: W + gamma B A, or for DoRA (m / n) (.) (W + gamma B A) row-wise; the bias is unchanged.</summary>
    public Tensor MergedWeight()
    {
        using var grad = no_grad();
        using var scope = NewDisposeScope();
        var combined = weight + _settings.Scale * lora_B.matmul(lora_A);
        if (lora_magnitude_vector is not null) combined = (lora_magnitude_vector / combined.norm(1)).unsqueeze(1) * combined;
        return combined.MoveToOuterDisposeScope();
    }
}
