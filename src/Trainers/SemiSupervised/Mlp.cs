using Microsoft.ML.PaperExtensions.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.SemiSupervised;

/// <summary>One dense layer of a fitted MLP: <c>y = x W' + b</c>, W stored [Out, In] row-major.</summary>
internal sealed record DenseLayer(int In, int Out, float[] Weight, float[] Bias);

/// <summary>
/// The weights of a fitted MLP with ReLU between its layers (none after the last), immutable, as the model and its ONNX
/// graph keep them.
/// </summary>
internal sealed class MlpWeights(IReadOnlyList<DenseLayer> layers)
{
    public IReadOnlyList<DenseLayer> Layers { get; } = layers;

    /// <summary>The forward pass in TorchSharp on a [N, In] float32 tensor.</summary>
    public Tensor Forward(Tensor x)
    {
        for (var i = 0; i < Layers.Count; i++)
        {
            var layer = Layers[i];
            using var w = tensor(layer.Weight, [layer.Out, layer.In], ScalarType.Float32, x.device);
            using var b = tensor(layer.Bias, [layer.Out], ScalarType.Float32, x.device);
            x = nn.functional.linear(x, w, b);
            if (i < Layers.Count - 1) x = nn.functional.relu(x);
        }
        return x;
    }

    /// <summary>
    /// Builds a trainable MLP of the given layer sizes (Xavier-uniform weights, zero biases, ReLU between layers). The weights
    /// are drawn from <paramref name="generator"/>, not libtorch's global generator, so fits running side by side in one
    /// process stay reproducible.
    /// </summary>
    public static Sequential CreateModule(IReadOnlyList<int> sizes, Device device, Generator generator)
    {
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (var i = 0; i + 1 < sizes.Count; i++)
        {
            var linear = nn.Linear(sizes[i], sizes[i + 1]);
            using (no_grad())
            {
                var bound = Math.Sqrt(6.0 / (sizes[i] + sizes[i + 1]));
                using var uniform = rand([sizes[i + 1], sizes[i]], generator: generator);
                linear.weight!.copy_(uniform.mul(2 * bound).sub(bound));
                nn.init.zeros_(linear.bias!);
            }
            modules.Add(($"linear{i}", linear));
            if (i + 2 < sizes.Count) modules.Add(($"relu{i}", nn.ReLU()));
        }
        var network = nn.Sequential(modules);
        network.to(device);
        return network;
    }

    /// <summary>Copies the layers of a module built by <see cref="CreateModule"/>.</summary>
    public static MlpWeights From(Sequential module) =>
        new(module.children().OfType<Linear>().Select(l => new DenseLayer((int)l.in_features, (int)l.out_features,
            TensorCopy.ToArray<float>(l.weight!), TensorCopy.ToArray<float>(l.bias!))).ToList());
}
