using Google.Protobuf;
using Onnx;

namespace Microsoft.ML.PaperExtensions.Onnx;

/// <summary>
/// ONNX external data: large initializers live in a file beside the model (<c>location</c>, <c>offset</c>, <c>length</c>
/// entries), so a model may pass protobuf's 2 GB limit. ONNX Runtime resolves the file relative to the model's folder.
/// </summary>
internal static class ExternalData
{
    private const int Alignment = 64;

    /// <summary>Moves every raw-data initializer larger than <paramref name="threshold"/> bytes to <c>&lt;modelPath&gt;.data</c>.</summary>
    public static void Move(ModelProto model, string modelPath, long threshold)
    {
        var dataPath = modelPath + ".data";
        var location = Path.GetFileName(dataPath);
        using var data = File.Create(dataPath);
        foreach (var tensor in model.Graph.Initializer)
        {
            if (tensor.RawData.Length <= threshold) continue;
            var offset = (data.Position + Alignment - 1) / Alignment * Alignment;
            data.Position = offset;
            tensor.RawData.WriteTo(data);
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = tensor.RawData.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            tensor.DataLocation = TensorProto.Types.DataLocation.External;
            tensor.RawData = ByteString.Empty;
        }
    }
}
