using Microsoft.ML.OnnxRuntime;

namespace Microsoft.ML.PaperExtensions.Tests.Text;

/// <summary>Runs an encoder ONNX file with ONNX Runtime on token ids and returns its first output, flat.</summary>
internal static class EncoderRun
{
    public static float[] Onnx(byte[] model, long[] ids, long[] mask, long[] types, long rows, long length, string? output = null)
    {
        using var session = new InferenceSession(model);
        long[] shape = [rows, length];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var typesValue = OrtValue.CreateTensorValueFromMemory(types, shape);
        var inputs = new Dictionary<string, OrtValue> { ["input_ids"] = idsValue, ["attention_mask"] = maskValue };
        if (session.InputMetadata.ContainsKey("token_type_ids")) inputs["token_type_ids"] = typesValue;
        using var options = new RunOptions();
        var outputName = output ?? session.OutputNames[0];
        using var results = session.Run(options, inputs, [outputName]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public static double MaxAbsDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.AreEqual(a.Length, b.Length, "lengths");
        double worst = 0;
        for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
        return worst;
    }
}
