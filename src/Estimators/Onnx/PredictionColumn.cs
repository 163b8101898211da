using Microsoft.ML.Data;
using Microsoft.ML.PaperExtensions.Data;

namespace Microsoft.ML.PaperExtensions.Onnx;

/// <summary>How a prediction column reaches ML.NET.</summary>
internal enum PredictionKind
{
    /// <summary>A scalar Single ([N] in the graph).</summary>
    Scalar,
    /// <summary>A known-size vector ([N, k] in the graph) of Single, or of Double when <see cref="PredictionColumn.Double"/>.</summary>
    Vector,
    /// <summary>A key with the class names as key values; the graph writes 1-based class indices ([N]).</summary>
    Key,
    /// <summary>A Boolean; the graph writes 0 or 1 ([N]).</summary>
    Boolean,
}

/// <summary>
/// One output column of a fitted model, declared once: the estimator's <c>GetOutputSchema</c>, the graph's output
/// declaration and <see cref="OnnxBackedTransformer"/>'s key and Boolean conversions all come from it.
/// </summary>
/// <param name="Name">The column name.</param>
/// <param name="Kind">Scalar, vector, key or Boolean.</param>
/// <param name="Double">A vector of Double rather than Single (for values that evaluators read at full precision).</param>
internal sealed record PredictionColumn(string Name, PredictionKind Kind, bool Double = false)
{
    public static PredictionColumn Scalar(string name) => new(name, PredictionKind.Scalar);

    public static PredictionColumn Vector(string name, bool isDouble = false) => new(name, PredictionKind.Vector, isDouble);

    public static PredictionColumn Key(string name) => new(name, PredictionKind.Key);

    public static PredictionColumn Boolean(string name) => new(name, PredictionKind.Boolean);

    /// <summary>The column as <c>GetOutputSchema</c> reports it.</summary>
    public SchemaShape.Column Shape() => Kind switch
    {
        PredictionKind.Scalar => SchemaShapes.Scalar(Name, NumberDataViewType.Single),
        PredictionKind.Vector => SchemaShapes.Vector(Name, Double ? NumberDataViewType.Double : NumberDataViewType.Single),
        PredictionKind.Key => SchemaShapes.Key(Name),
        _ => SchemaShapes.Scalar(Name, BooleanDataViewType.Instance),
    };

    /// <summary>The element type of the graph output.</summary>
    public OnnxElementType ElementType => Kind == PredictionKind.Vector && Double ? OnnxElementType.Double : OnnxElementType.Float;
}
