using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions;
using Microsoft.ML.PaperExtensions.Text;
using Microsoft.ML.PaperExtensions.TextEmbedding;

namespace PaperExtensions.Cli;

/// <summary><c>mlnet-papers embed</c>: sentence embeddings of a CSV text column with a pretrained BERT-family encoder.</summary>
internal static class EmbedCommand
{
    public static Command Create()
    {
        var model = CliRunner.Required<string>("--model", "A Hugging Face folder, a folder with model.onnx and vocab.txt, or an .onnx file (vocab.txt beside it).");
        var data = CliRunner.Required<string>("--data", "CSV file with a header row.");
        var text = CliRunner.Required<string>("--text", "The text column.");
        var output = CliRunner.Required<string>("--out", "CSV to write: the input's other columns, then e0 ... e{d-1}.");
        var pooling = new Option<string>("--pooling") { Description = "mean or cls.", DefaultValueFactory = _ => "mean" };
        pooling.AcceptOnlyFromAmong("mean", "cls");
        var normalize = new Option<bool>("--normalize") { Description = "Divide each vector by its L2 norm.", DefaultValueFactory = _ => true };
        var maxLength = new Option<int>("--max-length") { Description = "Tokens per text including [CLS] and [SEP]; longer texts are cut (and counted).", DefaultValueFactory = _ => 256 };
        var batchSize = new Option<int>("--batch-size") { Description = "Texts per run of the encoder.", DefaultValueFactory = _ => 32 };
        var device = CliRunner.DeviceOption();
        var json = CliRunner.JsonOption();
        var command = new Command("embed", "Embed a text column with a pretrained BERT-family encoder (mean or CLS pooling).")
        {
            model, data, text, output, pooling, normalize, maxLength, batchSize, device, json,
        };
        command.SetAction((parse, cancellation) =>
        {
            var source = CsvSource.Open(parse.GetValue(data)!);
            var textColumn = parse.GetValue(text)!;
            source.Column(textColumn, "--text");
            var outPath = parse.GetValue(output)!;
            CliRunner.RefuseOverwrite(outPath, "--out", source.Path);
            var others = source.Header.Where(c => c != textColumn).ToList();

            var watch = Stopwatch.StartNew();
            var ml = CliRunner.Context();
            var view = source.Load(ml, source.Header.Select(c => (c, DataKind.String)).ToList());
            using var embedding = ml.Transforms.Text.TransformerEmbedding(new TextEmbeddingEstimator.Options
            {
                InputColumnName = textColumn,
                OutputColumnName = "__embedding",
                ModelPath = parse.GetValue(model)!,
                Pooling = parse.GetValue(pooling) == "cls" ? EmbeddingPooling.Cls : EmbeddingPooling.Mean,
                Normalize = parse.GetValue(normalize),
                MaxSequenceLength = parse.GetValue(maxLength),
                BatchSize = parse.GetValue(batchSize),
                Device = CliRunner.Device(parse, device),
            }).Fit(view);
            var scored = embedding.Transform(view);

            long rows = 0, truncated = 0, empty = 0;
            int dimension = embedding.Dimension;
            using (var writer = new StreamWriter(outPath, false, new UTF8Encoding(false)))
            using (var cursor = scored.GetRowCursor(scored.Schema.Where(c => !c.IsHidden)))
            {
                writer.WriteLine(string.Join(',', others.Select(Quote).Concat(Enumerable.Range(0, dimension).Select(k => "e" + k.ToString(CultureInfo.InvariantCulture)))));
                var getters = others.Select(c => cursor.GetGetter<ReadOnlyMemory<char>>(scored.Schema[c])).ToArray();
                var textGetter = cursor.GetGetter<ReadOnlyMemory<char>>(scored.Schema[textColumn]);
                var vectorGetter = cursor.GetGetter<VBuffer<float>>(scored.Schema["__embedding"]);
                var value = default(ReadOnlyMemory<char>);
                var vector = default(VBuffer<float>);
                var line = new StringBuilder();
                while (cursor.MoveNext())
                {
                    cancellation.ThrowIfCancellationRequested();
                    line.Clear();
                    foreach (var getter in getters)
                    {
                        getter(ref value);
                        line.Append(Quote(value.ToString())).Append(',');
                    }
                    vectorGetter(ref vector);
                    var values = vector.GetValues();
                    for (int k = 0; k < values.Length; k++)
                    {
                        if (k > 0) line.Append(',');
                        line.Append(values[k].ToString("R", CultureInfo.InvariantCulture));
                    }
                    writer.WriteLine(line);
                    textGetter(ref value);
                    if (value.IsEmpty) empty++;
                    else if (embedding.Encoder.TokenCount(value.ToString()) > parse.GetValue(maxLength)) truncated++;
                    rows++;
                }
            }
            var seconds = watch.Elapsed.TotalSeconds;
            if (truncated > 0) Console.Error.WriteLine($"mlnet-papers: {truncated} of {rows} texts were longer than {parse.GetValue(maxLength)} tokens and were cut.");
            if (empty > 0) Console.Error.WriteLine($"mlnet-papers: {empty} of {rows} texts were empty and were embedded as [CLS][SEP].");
            if (parse.GetValue(json))
            {
                CliRunner.WriteJson(new { Rows = rows, Dimension = dimension, Seconds = seconds, RowsPerSecond = rows / seconds, TruncatedRows = truncated, EmptyRows = empty });
            }
            else
            {
                Console.Out.WriteLine($"Embedded {rows} texts into {dimension} dimensions in {seconds:F1} s ({rows / seconds:F1} rows/s); wrote {outPath}.");
            }
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).</summary>
    private static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"") + "\"";
}
