using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace Microsoft.ML.PaperExtensions.Text;

/// <summary>
/// The tokenizer step of a saved text model, made of ML.NET's own transforms plus registered custom mappings. ML.NET saves
/// a custom mapping by its contract name only, so the tokenizer's state travels in a value-mapping table: a constant key
/// (first mapping) looks up one text holding a header line and the vocabulary (<c>MapValue</c>, saved with the model), and
/// the tokenizing mapping reads it. Loading needs
/// <c>mlContext.ComponentCatalog.RegisterAssembly(typeof(PretrainedEncoder).Assembly)</c>, as for any custom mapping.
/// </summary>
internal static class WordPieceMapping
{
    public const string ConstantKeyContract = "PaperExtensions.TextEmbedding.VocabularyKey";
    public const string TokenizeContract = "PaperExtensions.TextEmbedding.WordPiece";
    public const string TokenizePairContract = "PaperExtensions.Text.WordPiecePair";

    /// <summary>Token vectors of the saved model have this fixed width (ML.NET's ONNX inputs need a known size); the graph cuts them to the row's tokens.</summary>
    public const int Slots = 512;

    /// <summary>Temporary columns of the saved chain start with this; the graph's inputs carry it too.</summary>
    public const string Prefix = "__paperext_";
    public const string TextColumn = Prefix + "text";
    public const string PairColumn = Prefix + "text_pair";
    public const string KeyColumn = Prefix + "vocabulary_key";
    public const string VocabularyColumn = Prefix + "vocabulary";
    public const string IdsColumn = Prefix + BertOnnxGraph.InputIds;
    public const string MaskColumn = Prefix + BertOnnxGraph.AttentionMask;
    public const string TypesColumn = Prefix + BertOnnxGraph.TokenTypeIds;

    /// <summary>Every temporary column of the tokenizer steps.</summary>
    public static readonly string[] TemporaryColumns = [TextColumn, PairColumn, KeyColumn, VocabularyColumn, IdsColumn, MaskColumn, TypesColumn];

    private const string Header = "paperextensions-wordpiece/1";
    private static readonly ConditionalWeakTable<string, Tokenizer> Cache = new();

    /// <summary>The table's one text: the header (lower-casing, maximum length) and the vocabulary, one token a line.</summary>
    public static string Encode(BertWordPieceTokenizer tokenizer, int maxLength) =>
        $"{Header} lower={(tokenizer.LowerCase ? 1 : 0)} max={maxLength}\n" + string.Join('\n', tokenizer.Vocabulary);

    /// <summary>The steps the saved model runs before the graph: text (and a second text) to three token vectors of <see cref="Slots"/> int64s.</summary>
    public static IEnumerable<IEstimator<ITransformer>> Steps(MLContext ml, string inputColumnName, string? pairColumnName, string table)
    {
        var keyData = ml.Data.LoadFromEnumerable([new VocabularyEntry { Key = "v", Value = table }]);
        yield return ml.Transforms.CopyColumns(TextColumn, inputColumnName);
        if (pairColumnName is not null) yield return ml.Transforms.CopyColumns(PairColumn, pairColumnName);
        yield return ml.Transforms.CustomMapping<TextRow, KeyRow>(new ConstantKeyFactory().GetMapping(), ConstantKeyContract);
        yield return ml.Transforms.Conversion.MapValue(VocabularyColumn, keyData, keyData.Schema[nameof(VocabularyEntry.Key)], keyData.Schema[nameof(VocabularyEntry.Value)], KeyColumn);
        yield return pairColumnName is null
            ? ml.Transforms.CustomMapping<TokenizerInput, TokenizerOutput>(new TokenizeFactory().GetMapping(), TokenizeContract)
            : ml.Transforms.CustomMapping<PairTokenizerInput, TokenizerOutput>(new TokenizePairFactory().GetMapping(), TokenizePairContract);
    }

    private sealed record Tokenizer(BertWordPieceTokenizer WordPiece, int MaxLength);

    private static Tokenizer Parse(string table)
    {
        int end = table.IndexOf('\n');
        var header = end < 0 ? table : table[..end];
        var fields = header.Split(' ');
        if (fields[0] != Header || fields.Length != 3)
            throw new InvalidDataException($"The text model's tokenizer table starts with '{header}', not '{Header} lower=.. max=..'.");
        bool lower = fields[1] == "lower=1";
        int maxLength = int.Parse(fields[2]["max=".Length..], System.Globalization.CultureInfo.InvariantCulture);
        var vocabulary = table[(end + 1)..].Split('\n');
        return new Tokenizer(BertWordPieceTokenizer.FromVocabulary(vocabulary, lower), maxLength);
    }

    /// <summary>Tokenizes one row into the three fixed-width vectors: tokens first, then padding.</summary>
    private static void Tokenize(ReadOnlyMemory<char> vocabulary, string text, string? pair, TokenizerOutput output)
    {
        // ML.NET hands every row the same table string; parse it once per string instance.
        var table = MemoryMarshal.TryGetString(vocabulary, out var whole, out _, out _) ? whole : vocabulary.ToString();
        var tokenizer = Cache.GetValue(table, Parse);
        var batch = tokenizer.WordPiece.EncodeBatch([text], pair is null ? null : [pair], tokenizer.MaxLength);
        output.InputIds = Pad(batch.InputIds);
        output.AttentionMask = Pad(batch.AttentionMask);
        output.TokenTypeIds = Pad(batch.TokenTypeIds);
    }

    private static long[] Pad(long[] values)
    {
        var padded = new long[Slots];
        values.CopyTo(padded, 0);
        return padded;
    }

    /// <summary>Constant key of the vocabulary table.</summary>
    [CustomMappingFactoryAttribute(ConstantKeyContract)]
    internal sealed class ConstantKeyFactory : CustomMappingFactory<TextRow, KeyRow>
    {
        public override Action<TextRow, KeyRow> GetMapping() => static (_, output) => output.Key = "v";
    }

    /// <summary>WordPiece tokenization of one text with the table's vocabulary.</summary>
    [CustomMappingFactoryAttribute(TokenizeContract)]
    internal sealed class TokenizeFactory : CustomMappingFactory<TokenizerInput, TokenizerOutput>
    {
        public override Action<TokenizerInput, TokenizerOutput> GetMapping() => static (input, output) => Tokenize(input.Vocabulary, input.Text.ToString(), null, output);
    }

    /// <summary>WordPiece tokenization of a sentence pair with the table's vocabulary.</summary>
    [CustomMappingFactoryAttribute(TokenizePairContract)]
    internal sealed class TokenizePairFactory : CustomMappingFactory<PairTokenizerInput, TokenizerOutput>
    {
        public override Action<PairTokenizerInput, TokenizerOutput> GetMapping() => static (input, output) => Tokenize(input.Vocabulary, input.Text.ToString(), input.Pair.ToString(), output);
    }

    internal sealed class VocabularyEntry
    {
        public string Key { get; set; } = "";
        public string Value { get; set; } = "";
    }

    internal sealed class TextRow
    {
        [ColumnName(TextColumn)]
        public ReadOnlyMemory<char> Text { get; set; }
    }

    internal sealed class KeyRow
    {
        [ColumnName(KeyColumn)]
        public string Key { get; set; } = "";
    }

    internal sealed class TokenizerInput
    {
        [ColumnName(TextColumn)]
        public ReadOnlyMemory<char> Text { get; set; }

        [ColumnName(VocabularyColumn)]
        public ReadOnlyMemory<char> Vocabulary { get; set; }
    }

    internal sealed class PairTokenizerInput
    {
        [ColumnName(TextColumn)]
        public ReadOnlyMemory<char> Text { get; set; }

        [ColumnName(PairColumn)]
        public ReadOnlyMemory<char> Pair { get; set; }

        [ColumnName(VocabularyColumn)]
        public ReadOnlyMemory<char> Vocabulary { get; set; }
    }

    internal sealed class TokenizerOutput
    {
        [ColumnName(IdsColumn), VectorType(Slots)]
        public long[] InputIds { get; set; } = [];

        [ColumnName(MaskColumn), VectorType(Slots)]
        public long[] AttentionMask { get; set; } = [];

        [ColumnName(TypesColumn), VectorType(Slots)]
        public long[] TokenTypeIds { get; set; } = [];
    }
}
