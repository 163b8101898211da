using System.Diagnostics;
using Microsoft.ML.PaperExtensions.Runtime;
using Microsoft.ML.PaperExtensions.Text;
using Microsoft.ML.PaperExtensions.Text.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.FineTuning;

/// <summary>What a fine-tune did.</summary>
/// <param name="EpochLosses">Mean training loss of each epoch.</param>
/// <param name="Steps">Optimizer steps.</param>
/// <param name="Seconds">Training time.</param>
/// <param name="TrainableParameters">Parameters the optimizer changed (adapters and head, or everything for full fine-tuning).</param>
/// <param name="TotalParameters">Parameters of encoder and head.</param>
/// <param name="ValidationLosses">Validation loss after each epoch; empty without a validation set.</param>
/// <param name="BestEpoch">The epoch (1-based) whose weights the model keeps: the one with the lowest validation loss, else the last.</param>
internal sealed record FineTuneResult(IReadOnlyList<double> EpochLosses, int Steps, double Seconds, long TrainableParameters, long TotalParameters,
    IReadOnlyList<double> ValidationLosses, int BestEpoch);

/// <summary>Texts (and second texts of pairs) with their class indices or standardised numbers.</summary>
internal sealed record FineTuningExamples(IReadOnlyList<string> Texts, IReadOnlyList<string>? Pairs, float[] Targets);

/// <summary>
/// The training loop of a text fine-tune: an encoder (with adapters attached, or whole) and a <see cref="TextHead"/>,
/// cross-entropy for classes or mean squared error for a (standardised) number, AdamW or SGD with linear warm-up and
/// linear decay, gradient clipping, batches of texts of similar length, one dispose scope per step. With a validation set,
/// the loss on it after each epoch decides: the best epoch's trained weights are kept, and training stops after
/// <c>patience</c> epochs without improvement.
/// </summary>
internal static class FineTuner
{
    /// <param name="encoder">The encoder; with adapters, only they train.</param>
    /// <param name="head">The head; it always trains.</param>
    /// <param name="tokenizer">The encoder's tokenizer.</param>
    /// <param name="texts">Training texts.</param>
    /// <param name="pairs">Second texts of sentence pairs, or null.</param>
    /// <param name="targets">Class indices (0-based) or standardised numbers, one per text.</param>
    /// <param name="settings">What to do.</param>
    /// <param name="context">Device, seed, progress and cancellation.</param>
    /// <param name="validation">Rows to measure the loss on after each epoch, or null.</param>
    /// <param name="patience">Epochs without a better validation loss before training stops.</param>
    /// <exception cref="InvalidOperationException">The loss stopped being finite; the message names the step and the learning rate.</exception>
    public static FineTuneResult Train(BertModel encoder, TextHead head, BertWordPieceTokenizer tokenizer, IReadOnlyList<string> texts, IReadOnlyList<string>? pairs,
        float[] targets, FineTuningSettings settings, TrainingContext context, FineTuningExamples? validation = null, int patience = 1)
    {
        var device = context.Device;
        var generator = new Generator((ulong)context.Seed, CPU);              // batch order
        var maskGenerator = new Generator((ulong)context.Seed + 1, device);   // dropout masks, where the tensors are
        foreach (var module in encoder.modules().OfType<LoraLinear>()) module.DropoutGenerator = maskGenerator;
        head.DropoutGenerator = maskGenerator;
        encoder.DropoutGenerator = maskGenerator;
        encoder.to(device);
        head.to(device);
        encoder.train();
        head.train();

        var trained = encoder.parameters().Where(p => p.requires_grad).Concat(head.parameters()).ToList();
        long trainable = trained.Sum(p => p.numel()), total = encoder.parameters().Concat(head.parameters()).Sum(p => p.numel());
        using var optimizer = settings.Optimizer == FineTuningOptimizer.AdamW
            ? (optim.Optimizer)optim.AdamW(trained, settings.LearningRate, weight_decay: settings.WeightDecay)
            : optim.SGD(trained, settings.LearningRate, momentum: 0.9, weight_decay: settings.WeightDecay);

        var training = new FineTuningExamples(texts, pairs, targets);
        var lengths = texts.Select((t, i) => tokenizer.WordPieceIds(t).Count + (pairs is null ? 0 : tokenizer.WordPieceIds(pairs[i]).Count)).ToArray();
        int batchesPerEpoch = (texts.Count + settings.BatchSize - 1) / settings.BatchSize;
        int totalSteps = batchesPerEpoch * settings.Epochs, warmup = (int)Math.Round(settings.WarmupFraction * totalSteps), step = 0;
        var losses = new List<double>();
        var validationLosses = new List<double>();
        List<Tensor>? best = null;
        int bestEpoch = settings.Epochs, sinceBest = 0;
        var watch = Stopwatch.StartNew();
        using var threads = context.Threads(long.MaxValue);
        for (int epoch = 0; epoch < settings.Epochs; epoch++)
        {
            double sum = 0;
            foreach (var batch in Batches(lengths, settings.BatchSize, generator))
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                double rate = settings.LearningRate * (step < warmup ? (step + 1.0) / (warmup + 1) : Math.Max(0, (totalSteps - step) / (double)Math.Max(1, totalSteps - warmup)));
                foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
                using var scope = NewDisposeScope();
                var loss = BatchLoss(encoder, head, tokenizer, training, batch, settings, device, nn.Reduction.Mean);
                double value = loss.item<float>();
                if (!double.IsFinite(value))
                    throw new InvalidOperationException($"Fine-tuning diverged: the training loss is {value} at step {step + 1} of {totalSteps} (learning rate {rate:G3}). Lower LearningRate or turn GradientClipping on.");
                optimizer.zero_grad();
                loss.backward();
                if (settings.GradientClipping > 0) nn.utils.clip_grad_norm_(trained, settings.GradientClipping);
                optimizer.step();
                sum += value * batch.Length;
                step++;
                context.Monitor.Report(new TrainingProgress("fine-tune", step, totalSteps, value));
            }
            losses.Add(sum / texts.Count);
            if (validation is null) continue;
            validationLosses.Add(Loss(encoder, head, tokenizer, validation, settings, device));
            if (validationLosses[^1] < validationLosses.SkipLast(1).DefaultIfEmpty(double.PositiveInfinity).Min())
            {
                best?.ForEach(t => t.Dispose());
                best = trained.Select(p => p.detach().clone()).ToList();
                (bestEpoch, sinceBest) = (epoch + 1, 0);
            }
            else if (++sinceBest >= patience)
            {
                context.Info($"Validation loss did not improve for {patience} epoch(s) after epoch {bestEpoch}; stopping after epoch {epoch + 1}.");
                break;
            }
            encoder.train();
            head.train();
        }
        if (best is not null)
        {
            using (no_grad())
                for (int i = 0; i < trained.Count; i++) trained[i].copy_(best[i]);
            best.ForEach(t => t.Dispose());
        }
        encoder.eval();
        head.eval();
        return new FineTuneResult(losses, step, watch.Elapsed.TotalSeconds, trainable, total, validationLosses, bestEpoch);
    }

    /// <summary>Mean loss (cross-entropy, or squared error of the standardised number) over the rows, in eval mode.</summary>
    private static double Loss(BertModel encoder, TextHead head, BertWordPieceTokenizer tokenizer, FineTuningExamples rows, FineTuningSettings settings, Device device)
    {
        encoder.eval();
        head.eval();
        using var grad = no_grad();
        double sum = 0;
        for (int start = 0; start < rows.Texts.Count; start += settings.BatchSize)
        {
            using var scope = NewDisposeScope();
            var batch = Enumerable.Range(start, Math.Min(settings.BatchSize, rows.Texts.Count - start)).ToArray();
            sum += BatchLoss(encoder, head, tokenizer, rows, batch, settings, device, nn.Reduction.Sum).item<float>();
        }
        return sum / rows.Texts.Count;
    }

    /// <summary>The loss of one batch of rows: tokenized with padding to its longest, through encoder and head.</summary>
    private static Tensor BatchLoss(BertModel encoder, TextHead head, BertWordPieceTokenizer tokenizer, FineTuningExamples rows, int[] batch, FineTuningSettings settings,
        Device device, nn.Reduction reduction)
    {
        var tokens = tokenizer.EncodeBatch(batch.Select(i => rows.Texts[i]).ToList(), rows.Pairs is { } pairs ? batch.Select(i => pairs[i]).ToList() : null, settings.MaxSequenceLength);
        long[] shape = [tokens.Rows, tokens.Length];
        var mask = tensor(tokens.AttentionMask, shape).to(device);
        var output = head.forward(encoder.forward(tensor(tokens.InputIds, shape).to(device), mask, tensor(tokens.TokenTypeIds, shape).to(device)), mask);
        var target = tensor(batch.Select(i => rows.Targets[i]).ToArray()).to(device);
        return settings.IsRegression
            ? nn.functional.mse_loss(output.squeeze(1), target, reduction)
            : nn.functional.cross_entropy(output, target.to_type(ScalarType.Int64), reduction: reduction);
    }

    /// <summary>
    /// One epoch's batches: rows shuffled, cut into pools of 50 batches, each pool sorted by length and cut into batches, and
    /// the batches shuffled, so that a batch holds texts of similar length (little padding) in an order that changes per epoch.
    /// </summary>
    internal static IEnumerable<int[]> Batches(int[] lengths, int batchSize, Generator generator)
    {
        using var permutation = randperm(lengths.Length, generator: generator, device: CPU);
        var order = permutation.data<long>().Select(i => (int)i).ToArray();
        var batches = new List<int[]>();
        foreach (var pool in order.Chunk(batchSize * 50))
            batches.AddRange(pool.OrderBy(i => lengths[i]).Chunk(batchSize));
        using var batchOrder = randperm(batches.Count, generator: generator, device: CPU);
        return batchOrder.data<long>().Select(i => batches[(int)i]).ToList();
    }
}
