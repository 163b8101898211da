using System.Text.Json;

namespace Microsoft.ML.PaperExtensions.Tests.Text;

/// <summary>
/// Batches of Data/reference/text/tiny-bert-reference.json: token ids and the float64 outputs of the independent
/// forward in make_tiny_bert.py for the weights in tiny-bert/.
/// </summary>
internal sealed record TinyBertBatch(string Name, string[][] Texts, long[,] InputIds, long[,] AttentionMask, long[,] TokenTypeIds, double[,,] LastHiddenState, double[,] PoolerOutput)
{
    public static string Folder(string name) => Path.Combine(AppContext.BaseDirectory, "Data", "reference", "text", name);

    public static IReadOnlyList<TinyBertBatch> Load()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder(""), "tiny-bert-reference.json")));
        return document.RootElement.GetProperty("batches").EnumerateArray().Select(b => new TinyBertBatch(
            b.GetProperty("name").GetString()!,
            b.GetProperty("texts").EnumerateArray().Select(t => t.EnumerateArray().Select(s => s.GetString()!).ToArray()).ToArray(),
            Matrix(b.GetProperty("input_ids")), Matrix(b.GetProperty("attention_mask")), Matrix(b.GetProperty("token_type_ids")),
            Cube(b.GetProperty("last_hidden_state")), Doubles(b.GetProperty("pooler_output")))).ToList();
    }

    public long[] Flat(long[,] m) => m.Cast<long>().ToArray();

    private static long[,] Matrix(JsonElement e)
    {
        var rows = e.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray()).ToArray();
        var m = new long[rows.Length, rows[0].Length];
        for (int i = 0; i < rows.Length; i++) for (int j = 0; j < rows[0].Length; j++) m[i, j] = rows[i][j];
        return m;
    }

    private static double[,] Doubles(JsonElement e)
    {
        var rows = e.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        var m = new double[rows.Length, rows[0].Length];
        for (int i = 0; i < rows.Length; i++) for (int j = 0; j < rows[0].Length; j++) m[i, j] = rows[i][j];
        return m;
    }

    private static double[,,] Cube(JsonElement e)
    {
        var blocks = e.EnumerateArray().Select(Doubles).ToArray();
        var c = new double[blocks.Length, blocks[0].GetLength(0), blocks[0].GetLength(1)];
        for (int i = 0; i < blocks.Length; i++)
            for (int j = 0; j < blocks[0].GetLength(0); j++)
                for (int k = 0; k < blocks[0].GetLength(1); k++) c[i, j, k] = blocks[i][j, k];
        return c;
    }
}
