using Microsoft.ML.PaperExtensions.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.SemiSupervised;

/// <summary>What the teacher is trained with.</summary>
internal sealed record TeacherSettings
{
    public required int EncoderWidth { get; init; }

    public required int ProjectionDimension { get; init; }

    public required int Epochs { get; init; }

    public required int BatchSize { get; init; }

    public required double LearningRate { get; init; }

    /// <summary>The NT-Xent temperature tau.</summary>
    public required double Temperature { get; init; }

    public ContrastiveAugmentation Augmentation { get; init; }

    /// <summary>SCARF: the share of features replaced per view.</summary>
    public double CorruptionRate { get; init; }

    /// <summary>VIME: the probability that a feature is replaced.</summary>
    public double VimeMaskProbability { get; init; }

    public bool CorruptBothViews { get; init; }
}

/// <summary>
/// WAD's teacher for tabular rows (SCARF): an MLP encoder of four dense layers and a two-layer projection head, trained with
/// the NT-Xent loss on pairs of views of every row (labelled and unlabelled), then frozen. Rows are embedded by the
/// normalised projection output.
/// </summary>
internal static class ContrastiveTeacher
{
    /// <summary>Trains the teacher on all rows of <paramref name="x"/> ([n, p] float32); returns encoder and head as one MLP.</summary>
    public static MlpWeights Train(Tensor x, TeacherSettings s, Generator generator, TrainingMonitor monitor, Device device)
    {
        var n = x.shape[0];
        var p = (int)x.shape[1];
        var w = s.EncoderWidth;
        using var network = MlpWeights.CreateModule([p, w, w, w, w, w, s.ProjectionDimension], device, generator);
        using var optimizer = optim.Adam(network.parameters(), s.LearningRate, weight_decay: 1e-6);
        var batch = (int)Math.Min(s.BatchSize, n);
        var batches = Math.Max(1, (int)(n / batch));
        for (var epoch = 1; epoch <= s.Epochs; epoch++)
        {
            double total = 0;
            using (var scope = NewDisposeScope())
            {
                var order = randperm(n, generator: generator).to(device);
                for (var b = 0; b < batches; b++)
                {
                    using var step = NewDisposeScope();
                    var rows = x.index_select(0, order.narrow(0, b * batch, batch));
                    var first = s.CorruptBothViews ? Corrupt(rows, x, s, generator) : rows;
                    var second = Corrupt(rows, x, s, generator);
                    optimizer.zero_grad();
                    var loss = NtXent(network.forward(first), network.forward(second), s.Temperature);
                    loss.backward();
                    optimizer.step();
                    total += loss.item<float>();
                }
            }
            monitor.Report(new TrainingProgress("teacher epoch", epoch, s.Epochs, total / batches));
        }
        return MlpWeights.From(network);
    }

    /// <summary>
    /// The two-view NT-Xent loss (SimCLR): 2B embeddings, cosine similarities over the temperature, each embedding's positive is
    /// the other view of its row and its negatives are the other 2B - 2; the mean of the 2B cross-entropies.
    /// </summary>
    public static Tensor NtXent(Tensor first, Tensor second, double temperature)
    {
        var count = first.shape[0];
        var z = Normalise(cat([first, second], 0));
        var similarity = z.mm(z.t()).div(temperature);
        using var self = eye(2 * count, dtype: ScalarType.Bool, device: z.device);
        similarity = similarity.masked_fill(self, double.NegativeInfinity);
        var positives = cat([arange(count, 2 * count, device: z.device), arange(0, count, device: z.device)]);
        return nn.functional.cross_entropy(similarity, positives);
    }

    /// <summary>z = h / (||h|| + 1e-8), row-wise: a zero row stays zero (cosine 0 to everything).</summary>
    public static Tensor Normalise(Tensor h) => h.div(h.norm(1, keepdim: true).add(1e-8));

    /// <summary>
    /// The corrupted view of <paramref name="rows"/>: SCARF replaces floor(rate * p) features chosen uniformly without replacement,
    /// VIME each feature with probability p_m, in both cases by the same feature of a uniformly random row of <paramref name="all"/>.
    /// </summary>
    public static Tensor Corrupt(Tensor rows, Tensor all, TeacherSettings s, Generator generator)
    {
        long b = rows.shape[0], p = rows.shape[1], n = all.shape[0];
        var uniform = rand([b, p], generator: generator).to(rows.device);
        Tensor mask;
        if (s.Augmentation == ContrastiveAugmentation.Scarf)
        {
            var count = (long)Math.Floor(s.CorruptionRate * p);
            mask = zeros([b, p], ScalarType.Bool, rows.device);
            if (count > 0) mask = mask.scatter(1, uniform.argsort(1).narrow(1, 0, count), ones([b, count], ScalarType.Bool, rows.device));
        }
        else
        {
            mask = uniform.lt(s.VimeMaskProbability);
        }
        var donors = randint(n, [b, p], generator: generator).to(rows.device);
        var replacement = all.take(donors.mul(p).add(arange(p, device: rows.device)));
        return where(mask, replacement, rows);
    }

    /// <summary>The normalised embeddings of <paramref name="x"/> ([n, p] float32) as float64 [n, D], in chunks.</summary>
    public static Tensor Embed(MlpWeights teacher, Tensor x)
    {
        const long chunk = 8192;
        var parts = new List<Tensor>();
        using (no_grad())
        {
            for (long start = 0; start < x.shape[0]; start += chunk)
            {
                parts.Add(Normalise(teacher.Forward(x.narrow(0, start, Math.Min(chunk, x.shape[0] - start))).to_type(ScalarType.Float64)));
            }
        }
        return parts.Count == 1 ? parts[0] : cat(parts, 0);
    }
}
