using System.Reflection;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;

namespace Microsoft.ML.PaperExtensions.Onnx;

/// <summary>
/// Turns one-slot vector columns into scalar columns with ML.NET's own saveable transformers.
/// </summary>
/// <remarks>
/// ML.NET 5.0.1's <c>OnnxTransformer</c> cannot produce scalar columns: a rank-0 ONNX output gets a scalar type in the
/// schema but its getter throws (<c>ArgumentNullException: source</c>, a leftover LINQ call in
/// <c>Mapper.MakeObjectGetter</c>). Every ONNX output therefore reaches ML.NET as a vector; a one-slot vector becomes a
/// scalar through a linear regression predictor with weight 1 and bias 0, which computes <c>0 + 1 * x</c> = x exactly
/// and writes a scalar Single <c>Score</c>, then <c>CopyColumns</c> gives it its final name. ML.NET offers no public
/// constructor for that predictor, so it is built by reflection here; the result is saved and loaded by plain ML.NET.
/// </remarks>
internal static class ScalarColumns
{
    private const BindingFlags Constructors = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;

    private static readonly ConstructorInfo ModelConstructor =
        typeof(LinearRegressionModelParameters).GetConstructor(Constructors, null,
            [typeof(IHostEnvironment), typeof(VBuffer<float>).MakeByRefType(), typeof(float)], null)
        ?? throw Missing("LinearRegressionModelParameters(IHostEnvironment, in VBuffer<float>, float)");

    private static readonly ConstructorInfo PredictorConstructor =
        typeof(RegressionPredictionTransformer<LinearRegressionModelParameters>).GetConstructor(Constructors, null,
            [typeof(IHostEnvironment), typeof(LinearRegressionModelParameters), typeof(DataViewSchema), typeof(string)], null)
        ?? throw Missing("RegressionPredictionTransformer<LinearRegressionModelParameters>(IHostEnvironment, model, DataViewSchema, string)");

    /// <summary>The name ML.NET's regression predictor writes its output to.</summary>
    public const string ScoreColumn = "Score";

    /// <summary>
    /// A transformer that writes the single value of the Vector&lt;Single, 1&gt; column <paramref name="vectorColumn"/>
    /// to a scalar Single column named <see cref="ScoreColumn"/>.
    /// </summary>
    public static ITransformer FirstSlotToScore(MLContext mlContext, DataViewSchema schema, string vectorColumn)
    {
        var type = schema[vectorColumn].Type;
        if (type is not VectorDataViewType { Size: 1, ItemType: var item } || item != NumberDataViewType.Single)
        {
            throw new ArgumentException($"Column '{vectorColumn}' must be Vector<Single, 1>, but is {type}.", nameof(vectorColumn));
        }
        var weights = new VBuffer<float>(1, [1f]);
        var model = ModelConstructor.Invoke([mlContext, weights, 0f]);
        return (ITransformer)PredictorConstructor.Invoke([mlContext, model, schema, vectorColumn]);
    }

    private static MissingMethodException Missing(string what) =>
        new($"This version of ML.NET has no {what}; Microsoft.ML.PaperExtensions needs Microsoft.ML 5.0.x to turn ONNX outputs into scalar columns.");
}
