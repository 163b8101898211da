using Microsoft.ML.PaperExtensions.Onnx;
using Microsoft.ML.PaperExtensions.Quantization;
using Microsoft.ML.PaperExtensions.Runtime;
using static TorchSharp.torch;

namespace Microsoft.ML.PaperExtensions.Tests.Quantization;

/// <summary>The properties of quantization spec section 8, on random weights and inputs.</summary>
[TestClass]
public sealed class QuantizerPropertyTests
{
    [ClassInitialize]
    public static void Initialise(TestContext _) => TorchRuntime.EnsureInitialized();

    private static Tensor Gaussian(int seed, long rows, long columns) => PackedLinearTests.Gaussian(new Random(seed), rows, columns);

    /// <summary>Inputs whose columns 0..k-1 (k = 1% of them, at least 2) are 30x larger: AWQ's salient channels.</summary>
    private static LinearInputs Inputs(Tensor x, int heldOutRows = 0)
    {
        var inputs = new LinearInputs(x.shape[1], x.shape[0] - heldOutRows);
        inputs.Add(x.narrow(0, 0, x.shape[0] - heldOutRows), heldOut: false);
        if (heldOutRows > 0) inputs.Add(x.narrow(0, x.shape[0] - heldOutRows, heldOutRows), heldOut: true);
        return inputs;
    }

    private static Tensor SalientInputs(int seed, long rows, long columns)
    {
        var x = Gaussian(seed, rows, columns);
        int salient = (int)Math.Max(2, columns / 100);
        x[.., TensorIndex.Slice(0, salient)] *= 30;
        return x;
    }

    [TestMethod]
    public void EveryElementIsWithinHalfAStepWhenItsZeroPointIsNotClamped()
    {
        using var scope = NewDisposeScope();
        var w = Gaussian(1, 64, 200);   // 200 = one 128 group and a padded one
        foreach (var symmetric in new[] { false, true })
            foreach (int bits in new[] { 2, 3, 4, 8 })
            {
                using var codes = new QuantizerSettings(bits, 128, symmetric).Quantize(w);
                var error = (codes.Dequantize() - w).abs().view(64, -1);
                var step = codes.Scales.abs().repeat_interleave(128, 1).narrow(1, 0, 200);
                // Asymmetric groups here all hold both signs, so the zero point is never clamped: half a step. ONNX Runtime's symmetric
                // grid has 2^(b-1) levels on the side of the largest magnitude and one fewer on the other: a full step there.
                var bound = symmetric ? step : step / 2;
                Assert.IsTrue((error <= bound * (1 + 1e-5f) + 1e-7f).all().item<bool>(), $"{bits} bits, symmetric {symmetric}");
                if (!symmetric) Assert.IsTrue(codes.Zeros.gt(0).all().item<bool>() && codes.Zeros.lt((1 << bits) - 1).all().item<bool>(), "no clamped zero point");
                Assert.IsTrue(codes.Codes.max().item<float>() <= (1 << bits) - 1 && codes.Codes.min().item<float>() >= 0, "codes within [0, 2^b - 1]");
            }
    }

    [TestMethod]
    public void ErrorFallsAsBitsRise()
    {
        using var scope = NewDisposeScope();
        var w = Gaussian(2, 128, 256);
        double Error(int bits) => (new QuantizerSettings(bits, 128, false).FakeQuantize(w) - w).square().sum().item<float>();
        double e2 = Error(2), e3 = Error(3), e4 = Error(4), e8 = Error(8);
        Assert.IsGreaterThan(5 * e8, e4, "err4 > 5 err8 (step ratio about 17)");
        Assert.IsGreaterThan(1.5 * e4, e3, "err3 > 1.5 err4 (step ratio about 2.1)");
        Assert.IsGreaterThan(1.5 * e3, e2, "err2 > 1.5 err3");
    }

    [TestMethod]
    public void AwqAtAlphaZeroIsRtnAndItsSearchNeverLosesToRtnOnItsCalibrationSet()
    {
        using var scope = NewDisposeScope();
        var w = Gaussian(3, 96, 256);
        using var inputs = Inputs(SalientInputs(4, 600, 256));
        var settings = new QuantizerSettings(3, 64, false);
        var ones = AwqSearch.Scale(inputs.MeanAbs(), 0);
        Assert.IsTrue(ones.eq(1).all().item<bool>(), "alpha = 0 gives s = 1");
        var (_, _, losses) = AwqSearch.SearchScale(w, inputs, settings, CancellationToken.None);
        var rtn = settings.FakeQuantize(w);
        double rtnLoss = LinearInputs.SquaredOutputError(rtn - w, inputs.Gram) / (600.0 * 96);
        Assert.AreEqual(rtnLoss, losses[0], 1e-12 * rtnLoss, "the loss at alpha = 0 is RTN's");
        Assert.IsLessThanOrEqualTo(rtnLoss, losses.Min());
    }

    [TestMethod]
    public void AwqProtectsSalientInputChannelsBetterThanRtn()
    {
        using var scope = NewDisposeScope();
        var w = Gaussian(5, 128, 384);
        using var inputs = Inputs(SalientInputs(6, 1200, 384), heldOutRows: 200);
        foreach (int bits in new[] { 3, 4 })
        {
            var settings = new LayerQuantizerSettings(QuantizationMethod.Awq, new QuantizerSettings(bits, 128, false), 0.01, 1, 1e-3);
            var (packed, report) = LayerQuantizer.Quantize("encoder.layer.0.intermediate.dense", w, inputs, settings, null, CancellationToken.None);
            Assert.IsNotNull(packed.InputScale);
            Assert.IsTrue(report.HeldOut);
            Assert.IsLessThan(0.8 * report.RtnRelativeError, report.RelativeError, $"{bits} bits: AWQ {report.RelativeError:F4} vs RTN {report.RtnRelativeError:F4} on held-out rows");
            // The report's error is the one of the packed weights the graph runs.
            var effective = tensor(packed.EffectiveWeight(), [128, 384]);
            Assert.AreEqual(report.RelativeError, LayerQuantizer.RelativeError(effective, w, inputs), 1e-6);
        }
    }

    [TestMethod]
    public void GwqKeepsExactlyTheChosenShareOfWeightsExactInFloat16()
    {
        using var scope = NewDisposeScope();
        var w = Gaussian(7, 50, 96);
        using var inputs = Inputs(Gaussian(8, 300, 96));
        var saliency = Gaussian(9, 50, 96).abs();
        var settings = new LayerQuantizerSettings(QuantizationMethod.Gwq, new QuantizerSettings(4, 32, false), 0.01, 1, 1e-3);
        var (packed, report) = LayerQuantizer.Quantize("encoder.layer.0.output.dense", w, inputs, settings, saliency, CancellationToken.None);
        int expected = (int)Math.Round(0.01 * 50 * 96);
        Assert.AreEqual(expected, packed.Outliers!.Count);
        Assert.AreEqual(expected, report.Outliers);
        var (_, top) = saliency.reshape(-1).topk(expected);
        CollectionAssert.AreEquivalent(top.data<long>().ToArray(), packed.Outliers.Rows.Zip(packed.Outliers.Columns, (r, c) => (long)r * 96 + c).ToArray(), "the most salient weights");
        var effective = packed.EffectiveWeight();
        var original = w.data<float>().ToArray();
        for (int k = 0; k < expected; k++)
        {
            int index = packed.Outliers.Rows[k] * 96 + packed.Outliers.Columns[k];
            Assert.AreEqual((float)(Half)original[index], effective[index], $"outlier {k} is fp16(W) exactly");
        }
        // Their dense codes are the zero point: the dense part dequantizes to 0 there.
        var codes = PackedLinear.Unpack(packed.Codes, 50, packed.Blocks * 32, 4);
        for (int k = 0; k < expected; k++)
        {
            int r = packed.Outliers.Rows[k], c = packed.Outliers.Columns[k];
            Assert.AreEqual(packed.Zeros[r * packed.Blocks + c / 32], codes[r * packed.Blocks * 32 + c]);
        }
    }

    [TestMethod]
    public void AdaDimKeepsTheAxisWithTheLowerErrorAtTheSameSize()
    {
        using var scope = NewDisposeScope();
        using var inputs = Inputs(SalientInputs(10, 500, 128));
        int outputAxisChosen = 0;
        for (int seed = 0; seed < 4; seed++)
        {
            var w = Gaussian(20 + seed, 128, 128);
            if (seed % 2 == 1) w[.., TensorIndex.Slice(0, 4)] *= 20;   // weight outliers in a few input columns favour per-input-channel groups
            var settings = new LayerQuantizerSettings(QuantizationMethod.AdaDim, new QuantizerSettings(3, 32, false), 0.01, 1, 1e-3);
            var (packed, report) = LayerQuantizer.Quantize("encoder.layer.0.attention.output.dense", w, inputs, settings, null, CancellationToken.None);
            using var byInput = new QuantizerSettings(3, 32, false).Quantize(w);
            using var byOutput = new QuantizerSettings(3, 32, false).Quantize(w.t().contiguous());
            double inputError = LayerQuantizer.RelativeError(byInput.Dequantize(), w, inputs), outputError = LayerQuantizer.RelativeError(byOutput.Dequantize().t(), w, inputs);
            Assert.AreEqual(Math.Min(inputError, outputError), report.RelativeError, 1e-9, $"seed {seed}");
            Assert.AreEqual(outputError < inputError ? "output" : "input", report.GroupAxis);
            if (report.GroupAxis == "output") outputAxisChosen++;
            Assert.AreEqual(byInput.Codes.numel() / 2 + 4 * byInput.Scales.numel(), packed.Codes.Length + 4L * packed.Scales.Length, "same bytes either way");
        }
        Assert.IsGreaterThan(0, outputAxisChosen, "the per-input-channel axis wins somewhere");
        Assert.IsLessThan(4, outputAxisChosen, "and not everywhere");
    }

    [TestMethod]
    public void FlexRoundStartsAtRtnAndLearnsALowerOutputError()
    {
        using var scope = NewDisposeScope();
        var w = Gaussian(11, 64, 128);
        using var inputs = Inputs(SalientInputs(12, 400, 128));
        var settings = new QuantizerSettings(3, 64, false);
        using var rtn = settings.Quantize(w);
        using var start = FlexRound.Fit(w, inputs, settings, iterations: 0, learningRate: 1e-3, CancellationToken.None);
        Assert.IsTrue(start.Codes.eq(rtn.Codes).all().item<bool>(), "codes at initialisation");
        Assert.IsTrue(start.Scales.eq(rtn.Scales).all().item<bool>(), "scales at initialisation");
        using var learned = FlexRound.Fit(w, inputs, settings, iterations: 200, learningRate: 3e-3, CancellationToken.None);
        double before = LayerQuantizer.RelativeError(rtn.Dequantize(), w, inputs), after = LayerQuantizer.RelativeError(learned.Dequantize(), w, inputs);
        Assert.IsLessThan(0.9 * before, after, $"FlexRound {after:F4} vs RTN {before:F4}");
        Assert.IsTrue(learned.Codes.max().item<float>() <= 7 && learned.Codes.min().item<float>() >= 0);
    }
}
