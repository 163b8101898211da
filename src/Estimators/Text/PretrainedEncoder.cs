namespace Microsoft.ML.PaperExtensions.Text;

/// <summary>
/// A pretrained BERT-family encoder and its WordPiece vocabulary, loaded from disk without Python:
/// a Hugging Face folder (<c>config.json</c>, <c>model.safetensors</c> or <c>pytorch_model.bin</c>, <c>vocab.txt</c>),
/// a folder holding an ONNX export (<c>model.onnx</c>, <c>vocab.txt</c>), or an ONNX file with its vocabulary.
/// </summary>
public sealed class PretrainedEncoder
{
    private PretrainedEncoder(EncoderCheckpoint checkpoint, BertWordPieceTokenizer tokenizer)
    {
        Checkpoint = checkpoint;
        Tokenizer = tokenizer;
    }

    /// <summary>The encoder's sizes.</summary>
    public BertConfig Config => Checkpoint.Config;

    /// <summary>The file the weights came from.</summary>
    public string Source => Checkpoint.Source;

    /// <summary>Whether texts are lower-cased and stripped of accents before WordPiece (an uncased model).</summary>
    public bool LowerCase => Tokenizer.LowerCase;

    /// <summary>Whether the weights include the pooler (dense + tanh on [CLS]).</summary>
    public bool HasPooler => Checkpoint.HasPooler;

    internal EncoderCheckpoint Checkpoint { get; }

    /// <summary>Tokens the encoder sees for <paramref name="text"/> before any cut: its WordPiece tokens plus [CLS] and [SEP].</summary>
    public int TokenCount(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Tokenizer.WordPieceIds(text).Count + 2;
    }

    internal BertWordPieceTokenizer Tokenizer { get; }

    /// <summary>Loads an encoder and its vocabulary.</summary>
    /// <param name="modelPath">A Hugging Face folder, a folder with <c>model.onnx</c> and <c>vocab.txt</c>, or an <c>.onnx</c> file.</param>
    /// <param name="vocabularyPath">The WordPiece <c>vocab.txt</c>; by default the one in the model's folder.</param>
    /// <param name="lowerCase">Lower-case texts (uncased model); by default the config's <c>do_lower_case</c>, else inferred from the vocabulary.</param>
    /// <exception cref="FileNotFoundException">A file the model needs is missing; the message names it.</exception>
    /// <exception cref="InvalidDataException">The files are not a BERT-family encoder, or a tensor or the vocabulary does not fit the config; the message names the file and tensor.</exception>
    public static PretrainedEncoder Load(string modelPath, string? vocabularyPath = null, bool? lowerCase = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        EncoderCheckpoint checkpoint;
        string folder;
        if (Directory.Exists(modelPath))
        {
            folder = modelPath;
            string onnx = Path.Combine(folder, "model.onnx");
            checkpoint = File.Exists(Path.Combine(folder, "config.json")) ? HuggingFaceCheckpoint.Read(folder)
                : File.Exists(onnx) ? OnnxEncoderImport.Read(onnx)
                : throw new FileNotFoundException($"Model folder '{folder}' holds neither config.json (a Hugging Face folder) nor model.onnx (an ONNX export).", Path.Combine(folder, "config.json"));
        }
        else if (File.Exists(modelPath) && modelPath.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            folder = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
            checkpoint = OnnxEncoderImport.Read(modelPath);
        }
        else
        {
            throw new FileNotFoundException($"Model '{modelPath}' is neither a folder nor an .onnx file.", modelPath);
        }

        string vocabulary = vocabularyPath ?? Path.Combine(folder, "vocab.txt");
        if (!File.Exists(vocabulary))
            throw new FileNotFoundException(vocabularyPath is null
                ? $"The model in '{modelPath}' has no vocab.txt beside it; give the WordPiece vocabulary's path."
                : $"Vocabulary file '{vocabulary}' was not found.", vocabulary);
        var tokenizer = BertWordPieceTokenizer.FromVocabulary(vocabulary, lowerCase ?? checkpoint.Config.DoLowerCase);
        if (tokenizer.VocabularySize > checkpoint.Config.VocabSize)
            throw new InvalidDataException($"{vocabulary}: {tokenizer.VocabularySize} tokens, but the word-embedding table 'embeddings.word_embeddings.weight' of {checkpoint.Source} has {checkpoint.Config.VocabSize} rows: this vocabulary belongs to another model.");
        return new PretrainedEncoder(checkpoint, tokenizer);
    }
}
