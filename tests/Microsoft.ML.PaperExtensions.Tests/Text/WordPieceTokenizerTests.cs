using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.PaperExtensions.TestSupport;
using Microsoft.ML.PaperExtensions.Text;

namespace Microsoft.ML.PaperExtensions.Tests.Text;

/// <summary>BERT WordPiece tokenization equals Hugging Face's, and batches come out as BERT encoders expect them.</summary>
[TestClass]
public sealed class WordPieceTokenizerTests
{
    private static readonly string TextReference = Path.Combine(AppContext.BaseDirectory, "Data", "reference", "text");
    private static readonly Lazy<BertWordPieceTokenizer> MiniLm = new(() => BertWordPieceTokenizer.FromVocabulary(Path.Combine(PretrainedModels.MiniLmFolder, "vocab.txt")));
    private static readonly Lazy<BertWordPieceTokenizer> Tiny = new(() => BertWordPieceTokenizer.FromVocabulary(Path.Combine(TextReference, "tiny-bert", "vocab.txt")));

    private static string[] Vocabulary(params string[] words) => ["[PAD]", "[UNK]", "[CLS]", "[SEP]", .. words];

    [TestMethod]
    public void EveryMiniLmReferenceCaseIsTokenizedAsHuggingFaceDoes()
    {
        var tokenizer = MiniLm.Value;
        Assert.IsTrue(tokenizer.LowerCase, "the MiniLM vocabulary is uncased");
        Assert.AreEqual(30522, tokenizer.VocabularySize);
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(TextReference, "wordpiece-minilm.json")));
        var failures = new List<string>();
        int cases = 0;
        foreach (var item in document.RootElement.EnumerateArray())
        {
            cases++;
            string text = item.GetProperty("text").GetString()!;
            int[] expected = [.. item.GetProperty("ids").EnumerateArray().Select(id => id.GetInt32())];
            int[] actual = [.. tokenizer.WordPieceIds(text)];
            if (!expected.SequenceEqual(actual)) failures.Add($"{JsonSerializer.Serialize(text)}: expected [{string.Join(",", expected)}], got [{string.Join(",", actual)}]");
        }
        Assert.AreEqual(44, cases);
        Assert.AreEqual(0, failures.Count, $"{cases - failures.Count} of {cases} agree:\n{string.Join("\n", failures)}");
    }

    [TestMethod]
    public void TinyBertReferenceBatchesAreReproducedWithDynamicPadding()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(TextReference, "tiny-bert-reference.json")));
        foreach (var batch in document.RootElement.GetProperty("batches").EnumerateArray())
        {
            string name = batch.GetProperty("name").GetString()!;
            var rows = batch.GetProperty("texts").EnumerateArray().Select(r => r.EnumerateArray().Select(t => t.GetString()!).ToArray()).ToArray();
            bool paired = rows[0].Length == 2;
            var encoded = Tiny.Value.EncodeBatch([.. rows.Select(r => r[0])], paired ? [.. rows.Select(r => r[1])] : null, maxLength: 64);
            Assert.AreEqual(rows.Length, encoded.Rows, name);
            Assert.AreEqual(0, encoded.TruncatedRows, name);
            CollectionAssert.AreEqual(Flatten(batch.GetProperty("input_ids")), encoded.InputIds, $"{name}: input_ids");
            CollectionAssert.AreEqual(Flatten(batch.GetProperty("attention_mask")), encoded.AttentionMask, $"{name}: attention_mask");
            CollectionAssert.AreEqual(Flatten(batch.GetProperty("token_type_ids")), encoded.TokenTypeIds, $"{name}: token_type_ids");
        }
    }

    private static long[] Flatten(JsonElement matrix) => [.. matrix.EnumerateArray().SelectMany(row => row.EnumerateArray()).Select(v => v.GetInt64())];

    [TestMethod]
    public void ABatchIsWrappedInSpecialTokensAndPaddedToItsLongestRow()
    {
        var tokenizer = MiniLm.Value;
        var hello = tokenizer.WordPieceIds("Hello, world!");
        var batch = tokenizer.EncodeBatch(["Hello, world!", "", "ok"], null, maxLength: 32);
        Assert.AreEqual(3, batch.Rows);
        Assert.AreEqual(hello.Count + 2, batch.Length, "dynamic padding: the longest row");
        Assert.AreEqual(0, batch.TruncatedRows);
        long cls = tokenizer.ClsId, sep = tokenizer.SepId, pad = tokenizer.PadId;
        long[] first = [cls, .. hello.Select(i => (long)i), sep];
        CollectionAssert.AreEqual(first, batch.InputIds[..6]);
        CollectionAssert.AreEqual(new long[] { cls, sep, pad, pad, pad, pad }, batch.InputIds[6..12], "an empty text is [CLS][SEP]");
        CollectionAssert.AreEqual(new long[] { cls, tokenizer.WordPieceIds("ok")[0], sep, pad, pad, pad }, batch.InputIds[12..]);
        CollectionAssert.AreEqual(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0 }, batch.AttentionMask);
        Assert.IsTrue(batch.TokenTypeIds.All(t => t == 0));

        var fixedLength = tokenizer.EncodeBatch(["Hello, world!", "", "ok"], null, maxLength: 10, padToMaxLength: true);
        Assert.AreEqual(10, fixedLength.Length);
        Assert.AreEqual(30, fixedLength.InputIds.Length);
        CollectionAssert.AreEqual(batch.InputIds[..6], fixedLength.InputIds[..6]);
        Assert.IsTrue(fixedLength.InputIds[6..10].All(id => id == pad));
        Assert.AreEqual(6 + 2 + 3, fixedLength.AttentionMask.Sum());
    }

    [TestMethod]
    public void LongRowsAreCutAtTheirEndAndCounted()
    {
        var tokenizer = MiniLm.Value;
        string text = "the quick brown fox jumps over the lazy dog";
        var ids = tokenizer.WordPieceIds(text);
        Assert.AreEqual(9, ids.Count);
        var batch = tokenizer.EncodeBatch([text, "dog", text], null, maxLength: 6);
        Assert.AreEqual(6, batch.Length);
        Assert.AreEqual(2, batch.TruncatedRows);
        CollectionAssert.AreEqual(new long[] { tokenizer.ClsId, ids[0], ids[1], ids[2], ids[3], tokenizer.SepId }, batch.InputIds[..6]);
        Assert.IsTrue(batch.AttentionMask[..6].All(m => m == 1));

        var exact = tokenizer.EncodeBatch([text], null, maxLength: 11);
        Assert.AreEqual(0, exact.TruncatedRows, "9 pieces and 2 specials fit 11 exactly");
    }

    [TestMethod]
    public void PairsGetTokenTypesAndLoseTokensFromTheLongerSideFirst()
    {
        var tokenizer = MiniLm.Value;
        string a = "the quick brown fox jumps", b = "over the lazy dog today again and again";
        var idsA = tokenizer.WordPieceIds(a);          // 5 pieces
        var idsB = tokenizer.WordPieceIds(b);          // 8 pieces
        Assert.AreEqual(5, idsA.Count);
        Assert.AreEqual(8, idsB.Count);

        // Budget 12 - 3 = 9: b loses 3 to reach 5 (a tie), then b loses one more (ties cut the second): a 5, b 4.
        var batch = tokenizer.EncodeBatch([a, "tea"], [b, "coffee"], maxLength: 12);
        Assert.AreEqual(12, batch.Length);
        Assert.AreEqual(1, batch.TruncatedRows);
        long cls = tokenizer.ClsId, sep = tokenizer.SepId;
        long[] expected = [cls, .. idsA.Select(i => (long)i), sep, .. idsB.Take(4).Select(i => (long)i), sep];
        CollectionAssert.AreEqual(expected, batch.InputIds[..12]);
        CollectionAssert.AreEqual(new long[] { 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1 }, batch.TokenTypeIds[..12]);
        CollectionAssert.AreEqual(new long[] { cls, tokenizer.WordPieceIds("tea")[0], sep, tokenizer.WordPieceIds("coffee")[0], sep, 0, 0, 0, 0, 0, 0, 0 }, batch.InputIds[12..]);
        CollectionAssert.AreEqual(new long[] { 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0 }, batch.TokenTypeIds[12..]);
        CollectionAssert.AreEqual(new long[] { 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0 }, batch.AttentionMask[12..]);

        // Budget 8 - 3 = 5 with a longer than b after the first cuts: b 8 -> 5, then b, a, b, ... alternate to a 3, b 2.
        var tight = tokenizer.EncodeBatch([a], [b], maxLength: 8);
        long[] tightExpected = [cls, .. idsA.Take(3).Select(i => (long)i), sep, .. idsB.Take(2).Select(i => (long)i), sep];
        CollectionAssert.AreEqual(tightExpected, tight.InputIds);
        CollectionAssert.AreEqual(new long[] { 0, 0, 0, 0, 0, 1, 1, 1 }, tight.TokenTypeIds);
    }

    [TestMethod]
    public void BadArgumentsAreRefusedWithTheirReason()
    {
        var tokenizer = Tiny.Value;
        var nullRow = Assert.ThrowsExactly<ArgumentException>(() => tokenizer.EncodeBatch(["the cat", null!], null, 8));
        StringAssert.Contains(nullRow.Message, "texts[1]");
        var nullPair = Assert.ThrowsExactly<ArgumentException>(() => tokenizer.EncodeBatch(["the cat"], [null!], 8));
        StringAssert.Contains(nullPair.Message, "pairs[0]");
        Assert.ThrowsExactly<ArgumentException>(() => tokenizer.EncodeBatch(["the cat"], null, 1));
        Assert.ThrowsExactly<ArgumentException>(() => tokenizer.EncodeBatch(["the cat"], ["a dog"], 2));
        Assert.ThrowsExactly<ArgumentException>(() => tokenizer.EncodeBatch(["the cat"], ["a", "b"], 8));
        Assert.AreEqual(2, tokenizer.EncodeBatch(["the cat"], null, 2).Length);

        var missing = Assert.ThrowsExactly<ArgumentException>(() => BertWordPieceTokenizer.FromVocabulary(["[PAD]", "[UNK]", "[CLS]", "hello"]));
        StringAssert.Contains(missing.Message, "[SEP]");
        string path = Path.Combine(Path.GetTempPath(), $"wordpiece-no-pad-{Environment.ProcessId}.txt");
        File.WriteAllLines(path, ["[UNK]", "[CLS]", "[SEP]", "hello"]);
        try
        {
            var fromFile = Assert.ThrowsExactly<ArgumentException>(() => BertWordPieceTokenizer.FromVocabulary(path));
            StringAssert.Contains(fromFile.Message, "[PAD]");
            StringAssert.Contains(fromFile.Message, path);
        }
        finally { File.Delete(path); }
    }

    [TestMethod]
    public void ACasedVocabularyKeepsCaseAndAccents()
    {
        var tokenizer = BertWordPieceTokenizer.FromVocabulary(Vocabulary("Hello", "hello", "Café", "cafe", "!", "##s", "World"));
        Assert.IsFalse(tokenizer.LowerCase, "upper-case tokens make the vocabulary cased");
        CollectionAssert.AreEqual(new[] { 4, 6, 8, 1, 10 }, tokenizer.WordPieceIds("Hello Café! world World").ToArray());
        CollectionAssert.AreEqual(new[] { 5, 6, 9 }, tokenizer.WordPieceIds("hello\u00a0Caf\u00e9s").ToArray());

        var uncased = BertWordPieceTokenizer.FromVocabulary(Vocabulary("Hello", "hello", "Café", "cafe", "!", "##s", "World"), lowerCase: true);
        CollectionAssert.AreEqual(new[] { 5, 7, 8, 1, 1 }, uncased.WordPieceIds("Hello Café! world World").ToArray());
        Assert.IsTrue(BertWordPieceTokenizer.FromVocabulary(Vocabulary("hello", "café")).LowerCase);
    }

    [TestMethod]
    public void VocabulariesWithCarriageReturnsAndOtherCharactersLoadAsHuggingFaceReadsThem()
    {
        string path = Path.Combine(Path.GetTempPath(), $"wordpiece-crlf-{Environment.ProcessId}.txt");
        File.WriteAllText(path, string.Join("\r\n", Vocabulary("a", "b", "##b")) + "\r\n");
        try
        {
            var tokenizer = BertWordPieceTokenizer.FromVocabulary(path);
            CollectionAssert.AreEqual(new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "b", "##b" }, tokenizer.Vocabulary.ToArray());
            CollectionAssert.AreEqual(new[] { 4, 5, 6 }, tokenizer.WordPieceIds("A bb").ToArray());
            // Private-use and format characters are dropped like controls (Hugging Face drops every category C*).
            CollectionAssert.AreEqual(new[] { 5, 6 }, tokenizer.WordPieceIds("b\ue000\u200bb").ToArray());
        }
        finally { File.Delete(path); }

        var repeated = BertWordPieceTokenizer.FromVocabulary(Vocabulary("a", "b", "a"));
        CollectionAssert.AreEqual(new[] { 6, 5 }, repeated.WordPieceIds("a b").ToArray(), "a repeated token keeps its last id");
    }

    [TestMethod]
    public void TenThousandReviewsAreEncodedQuickly()
    {
        var tokenizer = MiniLm.Value;
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(TextReference, "wordpiece-minilm.json")));
        var cases = document.RootElement.EnumerateArray().Select(item => item.GetProperty("text").GetString()!).ToArray();
        var texts = Enumerable.Range(0, 10_000).Select(i => cases[i % cases.Length]).ToArray();
        tokenizer.EncodeBatch(texts[..100], null, 128);
        var watch = Stopwatch.StartNew();
        var batch = tokenizer.EncodeBatch(texts, null, 128);
        watch.Stop();
        Console.WriteLine($"EncodeBatch of {texts.Length} texts: {watch.ElapsedMilliseconds} ms, length {batch.Length}");
        Assert.AreEqual(10_000, batch.Rows);
        Assert.IsTrue(watch.Elapsed < TimeSpan.FromSeconds(5), $"{watch.ElapsedMilliseconds} ms");
    }
}
