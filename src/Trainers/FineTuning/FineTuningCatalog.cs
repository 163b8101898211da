using Microsoft.ML.PaperExtensions.FineTuning;

namespace Microsoft.ML.PaperExtensions;

/// <summary>
/// Text fine-tuning on ML.NET's trainer catalogs: <c>mlContext.MulticlassClassification.Trainers.FineTuneText(...)</c> and
/// <c>mlContext.Regression.Trainers.FineTuneText(...)</c>.
/// </summary>
public static class FineTuningCatalog
{
    /// <summary>Fine-tunes a pretrained encoder into a text classifier (binary is the two-class case); see <see cref="TextFineTuningTrainer"/>.</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="modelPath">A Hugging Face folder, a folder with <c>model.onnx</c> and <c>vocab.txt</c>, or an <c>.onnx</c> file.</param>
    /// <param name="labelColumnName">The label: a key or text.</param>
    /// <param name="textColumnName">The text column.</param>
    /// <param name="method">LoRA, rsLoRA, DoRA, ALLoRA or Full.</param>
    /// <param name="epochs">Passes over the texts.</param>
    public static TextFineTuningTrainer FineTuneText(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, string modelPath,
        string labelColumnName = "Label", string textColumnName = "Text", FineTuningMethod method = FineTuningMethod.Lora, int epochs = 1)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new TextFineTuningTrainer(CatalogContext.Of(catalog), new TextFineTuningTrainer.Options
        {
            ModelPath = modelPath, LabelColumnName = labelColumnName, TextColumnName = textColumnName, Method = method, Epochs = epochs,
        }, regression: false);
    }

    /// <summary>Fine-tunes a pretrained encoder into a text classifier, with all options.</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="options">The options.</param>
    public static TextFineTuningTrainer FineTuneText(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, TextFineTuningTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new TextFineTuningTrainer(CatalogContext.Of(catalog), options, regression: false);
    }

    /// <summary>Fine-tunes a pretrained encoder to predict a number from text (or a sentence pair, e.g. a similarity score).</summary>
    /// <param name="catalog">The regression trainers catalog.</param>
    /// <param name="modelPath">A Hugging Face folder, a folder with <c>model.onnx</c> and <c>vocab.txt</c>, or an <c>.onnx</c> file.</param>
    /// <param name="labelColumnName">The label: Single or Double.</param>
    /// <param name="textColumnName">The text column.</param>
    /// <param name="method">LoRA, rsLoRA, DoRA, ALLoRA or Full.</param>
    /// <param name="epochs">Passes over the texts.</param>
    public static TextFineTuningTrainer FineTuneText(this RegressionCatalog.RegressionTrainers catalog, string modelPath,
        string labelColumnName = "Label", string textColumnName = "Text", FineTuningMethod method = FineTuningMethod.Lora, int epochs = 1)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new TextFineTuningTrainer(CatalogContext.Of(catalog), new TextFineTuningTrainer.Options
        {
            ModelPath = modelPath, LabelColumnName = labelColumnName, TextColumnName = textColumnName, Method = method, Epochs = epochs,
        }, regression: true);
    }

    /// <summary>Fine-tunes a pretrained encoder to predict a number, with all options.</summary>
    /// <param name="catalog">The regression trainers catalog.</param>
    /// <param name="options">The options.</param>
    public static TextFineTuningTrainer FineTuneText(this RegressionCatalog.RegressionTrainers catalog, TextFineTuningTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new TextFineTuningTrainer(CatalogContext.Of(catalog), options, regression: true);
    }
}
