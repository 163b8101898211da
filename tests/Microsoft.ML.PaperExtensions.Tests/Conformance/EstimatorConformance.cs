using System.Collections;
using System.Reflection;
using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;

namespace Microsoft.ML.PaperExtensions.Tests.Conformance;

/// <summary>Input that an estimator must reject, and the column name its error message must contain.</summary>
internal sealed record InvalidInput(IDataView Data, string ColumnName);

/// <summary>
/// The estimator contract every component test runs, modelled on ML.NET's TestEstimatorCore:
/// schema propagation equals the fitted schema, invalid input fails in both GetOutputSchema and Fit naming the column,
/// save then load in a fresh MLContext gives identical outputs, PredictionEngine agrees with Transform, the saved
/// model holds only ML.NET's own types, and cross-validation runs.
/// </summary>
internal static class EstimatorConformance
{
    /// <summary>Runs every check and returns the fitted transformer.</summary>
    /// <typeparam name="TRow">The input row class the data were made from.</typeparam>
    /// <typeparam name="TPrediction">A class with the output columns to compare, as PredictionEngine would fill it.</typeparam>
    /// <param name="crossValidate">Runs cross-validation on the data and returns one metric per fold; null to skip.</param>
    public static ITransformer Check<TRow, TPrediction>(
        MLContext mlContext,
        IEstimator<ITransformer> estimator,
        IReadOnlyList<TRow> rows,
        IReadOnlyList<InvalidInput> invalidInputs,
        Func<MLContext, IDataView, IReadOnlyList<double>>? crossValidate = null)
        where TRow : class
        where TPrediction : class, new()
    {
        var data = mlContext.Data.LoadFromEnumerable(rows);

        var shape = estimator.GetOutputSchema(SchemaShapes.FromSchema(data.Schema));
        var transformer = estimator.Fit(data);
        var fittedSchema = transformer.GetOutputSchema(data.Schema);
        AssertSameColumns(shape, fittedSchema);
        AssertSameColumns(shape, transformer.Transform(data).Schema);

        foreach (var invalid in invalidInputs)
        {
            var quoted = $"'{invalid.ColumnName}'";
            var schemaError = Assert.Throws<ArgumentException>(() => estimator.GetOutputSchema(SchemaShapes.FromSchema(invalid.Data.Schema)),
                $"GetOutputSchema must reject the input without {quoted}");
            StringAssert.Contains(schemaError.Message, quoted, "GetOutputSchema's error must name the column");
            var fitError = Assert.Throws<ArgumentException>(() => estimator.Fit(invalid.Data), $"Fit must reject the input without {quoted}");
            StringAssert.Contains(fitError.Message, quoted, "Fit's error must name the column");
        }

        var expected = mlContext.Data.CreateEnumerable<TPrediction>(transformer.Transform(data), reuseRowObject: false).ToList();
        using var stream = new MemoryStream();
        mlContext.Model.Save(transformer, data.Schema, stream);
        stream.Position = 0;
        var fresh = new MLContext(seed: 12345);
        var loaded = fresh.Model.Load(stream, out var loadedInputSchema);
        Assert.AreEqual(data.Schema.Count, loadedInputSchema.Count, "the saved input schema");
        AssertOnlyMlNetTypes(loaded);

        var freshData = fresh.Data.LoadFromEnumerable(rows);
        var actual = fresh.Data.CreateEnumerable<TPrediction>(loaded.Transform(freshData), reuseRowObject: false).ToList();
        Assert.AreEqual(expected.Count, actual.Count, "rows after save and load");
        for (var i = 0; i < expected.Count; i++)
        {
            AssertSamePrediction(expected[i], actual[i], $"row {i} after save and load");
        }

        var engine = fresh.Model.CreatePredictionEngine<TRow, TPrediction>(loaded);
        for (var i = 0; i < Math.Min(rows.Count, 25); i++)
        {
            AssertSamePrediction(expected[i], engine.Predict(rows[i]), $"row {i} through PredictionEngine");
        }

        if (crossValidate is not null)
        {
            var folds = crossValidate(mlContext, data);
            Assert.IsGreaterThanOrEqualTo(2, folds.Count, "cross-validation folds");
            Assert.IsTrue(folds.All(double.IsFinite), $"cross-validation metrics: {string.Join(", ", folds)}");
        }
        return transformer;
    }

    private static void AssertSameColumns(SchemaShape shape, DataViewSchema schema)
    {
        var visible = schema.Where(c => !c.IsHidden).ToList();
        CollectionAssert.AreEquivalent(shape.Select(c => c.Name).ToList(), visible.Select(c => c.Name).ToList(), "columns of GetOutputSchema vs the fitted transformer");
        foreach (var column in visible)
        {
            var declared = shape.Single(c => c.Name == column.Name);
            var actual = SchemaShapes.FromSchema(new DataViewSchema.Builder().Also(b => b.AddColumn(column.Name, column.Type, column.Annotations)).ToSchema()).Single();
            Assert.AreEqual(declared.Kind, actual.Kind, $"column '{column.Name}': vector kind");
            Assert.AreEqual(declared.IsKey, actual.IsKey, $"column '{column.Name}': key or not");
            Assert.AreEqual(declared.ItemType.RawType, actual.ItemType.RawType, $"column '{column.Name}': item type");
            foreach (var annotation in declared.Annotations)
            {
                Assert.IsTrue(actual.Annotations.Any(a => a.Name == annotation.Name), $"column '{column.Name}' lacks the declared annotation '{annotation.Name}'");
            }
        }
    }

    private static void AssertOnlyMlNetTypes(ITransformer transformer)
    {
        var ours = typeof(PaperExtensionsCatalogs).Assembly.GetName().Name!.Split('.')[..3];
        var prefix = string.Join('.', ours);
        foreach (var t in Flatten(transformer))
        {
            Assert.IsFalse(t.GetType().Assembly.GetName().Name!.StartsWith(prefix, StringComparison.Ordinal),
                $"the loaded model contains {t.GetType()}, so it would not load without this package");
        }
    }

    private static IEnumerable<ITransformer> Flatten(ITransformer transformer) =>
        transformer is IEnumerable<ITransformer> chain ? chain.SelectMany(Flatten) : [transformer];

    private static void AssertSamePrediction<T>(T expected, T actual, string where)
    {
        foreach (var property in typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var e = property.GetValue(expected);
            var a = property.GetValue(actual);
            if (e is IEnumerable ee and not string && a is IEnumerable ae)
            {
                CollectionAssert.AreEqual(ee.Cast<object>().ToList(), ae.Cast<object>().ToList(), $"{where}: {property.Name}");
            }
            else
            {
                Assert.AreEqual(e, a, $"{where}: {property.Name}");
            }
        }
    }

    private static T Also<T>(this T value, Action<T> action)
    {
        action(value);
        return value;
    }
}
