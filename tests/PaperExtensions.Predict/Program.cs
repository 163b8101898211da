using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Text;

// paperextensions-predict <model.zip> <texts.txt>: loads the model in this fresh process and writes, for each line of texts.txt
// (one text, column "Text"), its Score vector as round-trip floats separated by spaces. Exit code 2 on wrong arguments.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: paperextensions-predict <model.zip> <texts.txt>");
    return 2;
}
var ml = new MLContext(seed: 0);
ml.ComponentCatalog.RegisterAssembly(typeof(PretrainedEncoder).Assembly);
var model = ml.Model.Load(args[0], out _);
var texts = File.ReadAllLines(args[1]).Select(t => new Row { Text = t }).ToList();
var scored = model.Transform(ml.Data.LoadFromEnumerable(texts));
using var cursor = scored.GetRowCursor([scored.Schema["Score"]]);
var getter = cursor.GetGetter<VBuffer<float>>(scored.Schema["Score"]);
var score = default(VBuffer<float>);
while (cursor.MoveNext())
{
    getter(ref score);
    Console.WriteLine(string.Join(' ', score.DenseValues().Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
}
return 0;

internal sealed class Row
{
    public string Text { get; set; } = "";
}
