using System.Text;
using System.Text.Json;

namespace Microsoft.ML.PaperExtensions.Text;

/// <summary>
/// Writes float32 tensors in the safetensors format as Hugging Face's Python writer does: an 8-byte little-endian header
/// length, a JSON header (dtype, shape, data offsets per tensor, <c>__metadata__</c> <c>{"format":"pt"}</c>) padded with
/// spaces to 8 bytes, then the raw little-endian data.
/// </summary>
internal static class SafetensorsWriter
{
    public static void Write(string path, IReadOnlyList<(string Name, EncoderTensor Tensor)> tensors)
    {
        var data = tensors.Select(t => (t.Name, t.Tensor.Shape, t.Tensor.Values)).ToList();
        var header = new Dictionary<string, object> { ["__metadata__"] = new Dictionary<string, string> { ["format"] = "pt" } };
        long offset = 0;
        foreach (var (name, shape, values) in data)
        {
            long end = offset + 4L * values.Length;
            header[name] = new { dtype = "F32", shape, data_offsets = new[] { offset, end } };
            offset = end;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int padded = (json.Length + 7) / 8 * 8;
        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream);
        writer.Write((ulong)padded);
        writer.Write(json);
        for (int i = json.Length; i < padded; i++) writer.Write((byte)' ');
        foreach (var (_, _, values) in data) writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
    }
}
