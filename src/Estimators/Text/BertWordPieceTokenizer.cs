using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace Microsoft.ML.PaperExtensions.Text;

/// <summary>
/// BERT tokenization as Hugging Face's <c>BertTokenizer</c> does it: <see cref="BertBasicTokenizer"/> splits a text into
/// words, then Microsoft.ML.Tokenizers' <see cref="WordPieceTokenizer"/> splits each word greedily, longest match first,
/// into vocabulary pieces. Immutable, so one instance may serve several threads.
/// </summary>
internal sealed class BertWordPieceTokenizer
{
    /// <summary>A word longer than this many code points becomes [UNK], as in BERT.</summary>
    private const int MaxCodePointsPerWord = 100;

    private readonly WordPieceTokenizer _wordPiece;

    private BertWordPieceTokenizer(IReadOnlyList<string> vocabulary, bool? lowerCase, string source)
    {
        Vocabulary = [.. vocabulary];
        PadId = SpecialId("[PAD]", source);
        ClsId = SpecialId("[CLS]", source);
        SepId = SpecialId("[SEP]", source);
        UnknownId = SpecialId("[UNK]", source);
        LowerCase = lowerCase ?? !HasUpperCaseTokens(vocabulary);
        // Without ICU (globalization-invariant mode) Normalize leaves "é" whole, and accents would silently turn words into [UNK].
        if (LowerCase && "\u00e9".Normalize(NormalizationForm.FormD).Length != 2)
            throw new PlatformNotSupportedException("An uncased BERT vocabulary needs Unicode decomposition (NFD) to strip accents, which this process lacks: "
                + "it runs in globalization-invariant mode (InvariantGlobalization or DOTNET_SYSTEM_GLOBALIZATION_INVARIANT). Turn that off, with ICU installed.");

        // WordPieceTokenizer reads one token a line, line i being id i; a repeated token would make it throw, so only its
        // last line is kept (the id Hugging Face gives it) and the others are left empty, which the reader skips.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var lines = new string[vocabulary.Count];
        for (int i = lines.Length - 1; i >= 0; i--) lines[i] = seen.Add(vocabulary[i]) ? vocabulary[i] : "";
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(string.Join('\n', lines)));
        // Its own length check counts UTF-16 units; ours counts code points, so its limit only has to let every
        // word of at most 100 code points through.
        _wordPiece = WordPieceTokenizer.Create(stream, new WordPieceOptions
        {
            UnknownToken = "[UNK]",
            ContinuingSubwordPrefix = "##",
            MaxInputCharsPerWord = 2 * MaxCodePointsPerWord,
        });
    }

    /// <summary>Reads a <c>vocab.txt</c> (one token a line, LF or CRLF; line i is id i).</summary>
    /// <param name="vocabPath">The vocabulary file.</param>
    /// <param name="lowerCase">Whether to lower-case and strip accents; null infers it from the vocabulary.</param>
    /// <exception cref="ArgumentException">The vocabulary lacks [PAD], [CLS], [SEP] or [UNK].</exception>
    /// <exception cref="PlatformNotSupportedException">The vocabulary is uncased and the process runs without ICU.</exception>
    public static BertWordPieceTokenizer FromVocabulary(string vocabPath, bool? lowerCase = null) =>
        new(File.ReadAllLines(vocabPath), lowerCase, vocabPath);

    /// <summary>Builds the tokenizer from the tokens of a vocabulary, token i being id i.</summary>
    /// <param name="vocabulary">The tokens in id order.</param>
    /// <param name="lowerCase">Whether to lower-case and strip accents; null infers it from the vocabulary.</param>
    /// <exception cref="ArgumentException">The vocabulary lacks [PAD], [CLS], [SEP] or [UNK].</exception>
    /// <exception cref="PlatformNotSupportedException">The vocabulary is uncased and the process runs without ICU.</exception>
    public static BertWordPieceTokenizer FromVocabulary(IReadOnlyList<string> vocabulary, bool? lowerCase = null) =>
        new(vocabulary, lowerCase, "(given as a list)");

    /// <summary>The tokens in id order, as read (so that a model can save them).</summary>
    public IReadOnlyList<string> Vocabulary { get; }

    /// <summary>Number of ids, including unused lines.</summary>
    public int VocabularySize => Vocabulary.Count;

    /// <summary>Whether text is lower-cased and stripped of accents (an uncased model).</summary>
    public bool LowerCase { get; }

    /// <summary>Id of [PAD].</summary>
    public int PadId { get; }

    /// <summary>Id of [CLS].</summary>
    public int ClsId { get; }

    /// <summary>Id of [SEP].</summary>
    public int SepId { get; }

    /// <summary>Id of [UNK].</summary>
    public int UnknownId { get; }

    /// <summary>The word-piece ids of a text, without [CLS] and [SEP].</summary>
    /// <param name="text">The text; may be empty.</param>
    public IReadOnlyList<int> WordPieceIds(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        AppendIds(text, new BertBasicTokenizer(LowerCase), ids);
        return ids;
    }

    /// <summary>
    /// Encodes a batch as <c>[CLS] a [SEP]</c>, or <c>[CLS] a [SEP] b [SEP]</c> with pairs. A row longer than
    /// <paramref name="maxLength"/> loses tokens at its end; a pair loses them one at a time from its longer side
    /// (from the second on ties), Hugging Face's <c>longest_first</c>.
    /// </summary>
    /// <param name="texts">One text a row.</param>
    /// <param name="pairs">Null, or the second text of each row.</param>
    /// <param name="maxLength">Most tokens in a row, special tokens included.</param>
    /// <param name="padToMaxLength">Pad every row to <paramref name="maxLength"/> rather than to the batch's longest row.</param>
    /// <exception cref="ArgumentException">A text is null, the lists differ in length, or <paramref name="maxLength"/> cannot hold the special tokens.</exception>
    public TokenBatch EncodeBatch(IReadOnlyList<string> texts, IReadOnlyList<string>? pairs, int maxLength, bool padToMaxLength = false)
    {
        ArgumentNullException.ThrowIfNull(texts);
        int specials = pairs is null ? 2 : 3;
        if (maxLength < specials)
            throw new ArgumentException($"maxLength is {maxLength}, but a row needs at least {specials} tokens for [CLS] and [SEP]{(pairs is null ? "" : " twice")}.", nameof(maxLength));
        if (pairs is not null && pairs.Count != texts.Count)
            throw new ArgumentException($"There are {pairs.Count} pairs for {texts.Count} texts; give one second text a row.", nameof(pairs));

        var basic = new BertBasicTokenizer(LowerCase);
        var pieces = new List<int>();                 // the kept pieces of every row, back to back
        var kept = new (int First, int Second)[texts.Count];
        int length = padToMaxLength ? maxLength : 0, truncatedRows = 0;
        for (int row = 0; row < texts.Count; row++)
        {
            int start = pieces.Count;
            AppendIds(RowText(texts, row, nameof(texts)), basic, pieces);
            int first = pieces.Count - start, second = 0;
            if (pairs is not null)
            {
                AppendIds(RowText(pairs, row, nameof(pairs)), basic, pieces);
                second = pieces.Count - start - first;
            }

            var (keepFirst, keepSecond) = Truncate(first, second, maxLength - specials);
            if (keepFirst < first || keepSecond < second)
            {
                truncatedRows++;
                pieces.RemoveRange(start + first + keepSecond, second - keepSecond);
                pieces.RemoveRange(start + keepFirst, first - keepFirst);
            }
            kept[row] = (keepFirst, keepSecond);
            if (!padToMaxLength) length = Math.Max(length, keepFirst + keepSecond + specials);
        }

        var inputIds = new long[texts.Count * length];
        var attentionMask = new long[inputIds.Length];
        var tokenTypeIds = new long[inputIds.Length];
        ReadOnlySpan<int> source = CollectionsMarshal.AsSpan(pieces);
        for (int row = 0; row < texts.Count; row++)
        {
            var ids = inputIds.AsSpan(row * length, length);
            var (first, second) = kept[row];
            int n = 0;
            ids[n++] = ClsId;
            n = Copy(source[..first], ids, n);
            ids[n++] = SepId;
            if (pairs is not null)
            {
                tokenTypeIds.AsSpan(row * length + n, second + 1).Fill(1);
                n = Copy(source.Slice(first, second), ids, n);
                ids[n++] = SepId;
            }
            ids[n..].Fill(PadId);
            attentionMask.AsSpan(row * length, n).Fill(1);
            source = source[(first + second)..];
        }
        return new TokenBatch(inputIds, attentionMask, tokenTypeIds, texts.Count, length, truncatedRows);
    }

    /// <summary>Basic-tokenizes <paramref name="text"/> with <paramref name="basic"/> and appends the ids of its word pieces.</summary>
    private void AppendIds(string text, BertBasicTokenizer basic, List<int> ids)
    {
        basic.Split(text);
        for (int i = 0; i < basic.WordCount; i++)
        {
            var word = basic.Word(i);
            if (word.Length > MaxCodePointsPerWord && CountCodePoints(word) > MaxCodePointsPerWord) ids.Add(UnknownId);
            else ids.AddRange(_wordPiece.EncodeToIds(word, considerPreTokenization: false, considerNormalization: false));
        }
    }

    /// <summary>How many pieces of each segment fit in <paramref name="budget"/>: removes one at a time from the longer (the second on ties).</summary>
    private static (int First, int Second) Truncate(int first, int second, int budget)
    {
        while (first + second > budget)
        {
            if (first > second) first--;
            else second--;
        }
        return (first, second);
    }

    private static int Copy(ReadOnlySpan<int> pieces, Span<long> ids, int at)
    {
        foreach (int id in pieces) ids[at++] = id;
        return at;
    }

    private static string RowText(IReadOnlyList<string> texts, int row, string name) =>
        texts[row] ?? throw new ArgumentException($"{name}[{row}] is null; use an empty string for an empty text.", name);

    private static int CountCodePoints(ReadOnlySpan<char> word)
    {
        int count = 0;
        foreach (var _ in word.EnumerateRunes()) count++;
        return count;
    }

    private int SpecialId(string token, string source)
    {
        for (int id = Vocabulary.Count - 1; id >= 0; id--)
            if (Vocabulary[id] == token) return id;
        throw new ArgumentException($"The vocabulary {source} has no {token} token; a BERT vocabulary needs [PAD], [CLS], [SEP] and [UNK].");
    }

    /// <summary>Whether a token other than the bracketed specials ([CLS], [unused0], ...) changes when lower-cased: a cased vocabulary.</summary>
    private static bool HasUpperCaseTokens(IReadOnlyList<string> vocabulary)
    {
        foreach (string token in vocabulary)
        {
            if (token.StartsWith('[') && token.EndsWith(']')) continue;
            foreach (char c in token)
                if (char.ToLowerInvariant(c) != c) return true;
        }
        return false;
    }
}

/// <summary>
/// Hugging Face's BERT <c>BasicTokenizer</c> (as its Rust <c>BertNormalizer</c> + <c>BertPreTokenizer</c>): drops
/// U+0000, U+FFFD and other characters (category C*, but tab, newline and carriage return are whitespace),
/// splits on whitespace and around CJK ideographs; when lower-casing, decomposes (NFD), drops nonspacing marks
/// and lower-cases each code point; then makes every punctuation character a word of its own.
/// Keeps its buffers from text to text, so one instance serves one thread.
/// </summary>
internal sealed class BertBasicTokenizer(bool lowerCase)
{
    private readonly List<char> _token = [];       // the current whitespace-delimited token, before normalization
    private readonly List<char> _chars = [];       // the words of the text, back to back
    private readonly List<(int Start, int Length)> _words = [];
    private int _wordStart;

    /// <summary>Number of words of the last text split.</summary>
    public int WordCount => _words.Count;

    /// <summary>Word <paramref name="index"/> of the last text split.</summary>
    public ReadOnlySpan<char> Word(int index)
    {
        var (start, length) = _words[index];
        return CollectionsMarshal.AsSpan(_chars).Slice(start, length);
    }

    /// <summary>Splits <paramref name="text"/> into words, replacing those of the previous text.</summary>
    public void Split(string text)
    {
        _chars.Clear();
        _words.Clear();
        _wordStart = 0;
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            bool valid = Rune.DecodeFromUtf16(rest, out var rune, out int consumed) == System.Buffers.OperationStatus.Done;
            rest = rest[consumed..];
            int cp = rune.Value;
            if (!valid || cp == 0 || cp == 0xFFFD) continue;            // a lone surrogate is category Cs: dropped too
            if (cp is '\t' or '\n' or '\r') { EndToken(); continue; }
            if (IsOther(Rune.GetUnicodeCategory(rune))) continue;
            if (Rune.IsWhiteSpace(rune)) { EndToken(); continue; }
            if (IsCjk(cp))
            {
                EndToken();
                Append(_token, rune);
                EndToken();
                continue;
            }
            Append(_token, rune);
        }
        EndToken();
    }

    /// <summary>Normalizes the pending token and splits it on punctuation into words.</summary>
    private void EndToken()
    {
        if (_token.Count == 0) return;
        ReadOnlySpan<char> token = CollectionsMarshal.AsSpan(_token);
        // ASCII has neither decompositions nor marks, so only other text needs NFD.
        bool decompose = lowerCase && !Ascii.IsValid(token);
        ReadOnlySpan<char> source = decompose ? new string(token).Normalize(NormalizationForm.FormD) : token;
        foreach (var original in source.EnumerateRunes())
        {
            var rune = original;
            if (lowerCase)
            {
                if (decompose && Rune.GetUnicodeCategory(rune) == UnicodeCategory.NonSpacingMark) continue;
                rune = Rune.ToLowerInvariant(rune);
            }
            if (IsPunctuation(rune))
            {
                EndWord();
                Append(_chars, rune);
                EndWord();
            }
            else Append(_chars, rune);
        }
        EndWord();
        _token.Clear();
    }

    private void EndWord()
    {
        if (_chars.Count > _wordStart) _words.Add((_wordStart, _chars.Count - _wordStart));
        _wordStart = _chars.Count;
    }

    private static void Append(List<char> chars, Rune rune)
    {
        if (rune.IsBmp) chars.Add((char)rune.Value);
        else
        {
            Span<char> pair = stackalloc char[2];
            rune.EncodeToUtf16(pair);
            chars.AddRange(pair);
        }
    }

    /// <summary>Control, format, private-use and unassigned (with lone surrogates, all of category C*): BERT's "control" characters.</summary>
    private static bool IsOther(UnicodeCategory category) => category is UnicodeCategory.Control or UnicodeCategory.Format
        or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;

    /// <summary>ASCII symbols (33-47, 58-64, 91-96, 123-126) and every Unicode punctuation category (P*).</summary>
    private static bool IsPunctuation(Rune rune)
    {
        int cp = rune.Value;
        if (cp is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126) return true;
        return Rune.GetUnicodeCategory(rune) is >= UnicodeCategory.ConnectorPunctuation and <= UnicodeCategory.OtherPunctuation;
    }

    /// <summary>The CJK ideograph blocks of the original BERT (not Hiragana, Katakana or Hangul).</summary>
    private static bool IsCjk(int cp) => cp is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF
        or >= 0x2A700 and <= 0x2B73F or >= 0x2B740 and <= 0x2B81F or >= 0x2B820 and <= 0x2CEAF
        or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;
}

/// <summary>A tokenized batch, each array row-major <c>[Rows, Length]</c>.</summary>
/// <param name="InputIds">Token ids, [PAD] after the end of each row.</param>
/// <param name="AttentionMask">1 on tokens, 0 on padding.</param>
/// <param name="TokenTypeIds">0 on the first segment with its [CLS] and [SEP], 1 on the second with its [SEP], 0 on padding.</param>
/// <param name="Rows">Number of rows.</param>
/// <param name="Length">Tokens a row, padding included.</param>
/// <param name="TruncatedRows">Rows that lost tokens to the maximum length.</param>
internal sealed record TokenBatch(long[] InputIds, long[] AttentionMask, long[] TokenTypeIds, int Rows, int Length, int TruncatedRows);
