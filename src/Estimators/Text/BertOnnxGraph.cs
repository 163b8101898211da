using Microsoft.ML.PaperExtensions.Onnx;
using static Microsoft.ML.PaperExtensions.Onnx.OnnxGraphBuilder;

namespace Microsoft.ML.PaperExtensions.Text;

/// <summary>
/// Writes a BERT-family encoder as an ONNX graph of default-domain operators (opset 17): inputs <c>input_ids</c>,
/// <c>attention_mask</c>, <c>token_type_ids</c> ([N, T] int64), output either the pooled text vector <c>Embedding</c> [N, hidden]
/// or <c>last_hidden_state</c> [N, T, hidden]. It computes what <see cref="Modules.BertModel"/> computes.
/// </summary>
internal static class BertOnnxGraph
{
    public const string InputIds = "input_ids";
    public const string AttentionMask = "attention_mask";
    public const string TokenTypeIds = "token_type_ids";
    public const string Embedding = "Embedding";
    public const string LastHiddenState = "last_hidden_state";
    public const string Score = "Score";
    public const string PredictedLabel = "PredictedLabel";

    /// <param name="checkpoint">The weights.</param>
    /// <param name="pooling">Mean or CLS pooling into <c>Embedding</c>; null outputs <c>last_hidden_state</c>.</param>
    /// <param name="normalize">Divide each pooled vector by its L2 norm (at least 1e-12).</param>
    /// <param name="perRowSlots">
    /// For ML.NET's row-by-row <c>OnnxTransformer</c>: inputs of fixed shape [1, slots] (padded token vectors), which the graph
    /// cuts to the row's tokens, and the pooled vector as [hidden]. Null for the batched graph.
    /// </param>
    /// <param name="namePrefix">Put before every input name (ML.NET column names of the per-row graph) and before the <c>Embedding</c> output.</param>
    /// <param name="head">
    /// A Linear head on the pooled vector: class probabilities <c>Score</c> [N, K] (softmax) and the 1-based <c>PredictedLabel</c>
    /// [N], or for one output a regression <c>Score</c> [N]; outputs keep their names and always have the batch dimension.
    /// </param>
    public static OnnxGraphBuilder Build(EncoderCheckpoint checkpoint, EmbeddingPooling? pooling, bool normalize, int? perRowSlots = null, string namePrefix = "",
        TextHeadWeights? head = null)
    {
        var c = checkpoint.Config;
        var w = checkpoint.Tensors;
        var g = new OnnxGraphBuilder("bert_encoder");
        string F(float v) => g.AddInitializer(g.NewName("c"), [v], 1);
        string I(params long[] v) => g.AddInitializer(g.NewName("shape"), v, v.Length);
        long[] inputShape = perRowSlots is { } slots ? [1, slots] : [Batch, Sequence];
        var ids = g.AddInput(namePrefix + InputIds, OnnxElementType.Int64, inputShape);
        var mask = g.AddInput(namePrefix + AttentionMask, OnnxElementType.Int64, inputShape);
        var types = g.AddInput(namePrefix + TokenTypeIds, OnnxElementType.Int64, inputShape);
        if (perRowSlots is not null)
        {
            // One row, tokens first then padding: keep the first sum(mask) positions.
            var tokens = g.AddNode("ReduceSum", [mask, I(1)], null, Attribute("keepdims", 0L));
            string Cut(string x) => g.AddNode("Slice", [x, I(0), tokens, I(1)]);
            (ids, mask, types) = (Cut(ids), Cut(mask), Cut(types));
        }
        string Weight(string name) => g.AddInitializer(name, w[name].Values, w[name].Shape);

        // Embeddings: word + position (0..T-1) + token type, then LayerNorm.
        var length = g.AddNode("Gather", [g.AddNode("Shape", [ids]), I(1)]);
        var positions = g.AddNode("Range", [g.AddInitializer(g.NewName("zero"), [0L], []), g.AddNode("Squeeze", [length]), g.AddInitializer(g.NewName("one"), [1L], [])]);
        var x = g.AddNode("Add", [
            g.AddNode("Add", [g.AddNode("Gather", [Weight("embeddings.word_embeddings.weight"), ids]),
                g.AddNode("Gather", [Weight("embeddings.position_embeddings.weight"), positions])]),
            g.AddNode("Gather", [Weight("embeddings.token_type_embeddings.weight"), types])]);
        x = LayerNorm(g, x, "embeddings.LayerNorm", Weight, c.LayerNormEps);

        // 0 where attended, the lowest float where padded: [N, 1, 1, T].
        var maskFloat = g.AddNode("Cast", [mask], null, Attribute("to", (long)OnnxElementType.Float));
        var additive = g.AddNode("Unsqueeze", [g.AddNode("Mul", [g.AddNode("Sub", [F(1), maskFloat]), F(float.MinValue)]), I(1, 2)]);

        var scale = F((float)(1 / Math.Sqrt(c.HeadSize)));
        var splitHeads = I(0, 0, c.NumAttentionHeads, c.HeadSize);
        var mergeHeads = I(0, 0, c.HiddenSize);
        for (int i = 0; i < c.NumHiddenLayers; i++)
        {
            string p = $"encoder.layer.{i}.";
            string Heads(string name, long[] perm) => g.AddNode("Transpose", [g.AddNode("Reshape", [Linear(g, x, p + name, checkpoint), splitHeads])], null, Attribute("perm", perm));
            var q = Heads("attention.self.query", [0, 2, 1, 3]);
            var kT = Heads("attention.self.key", [0, 2, 3, 1]);
            var v = Heads("attention.self.value", [0, 2, 1, 3]);
            var scores = g.AddNode("Add", [g.AddNode("Mul", [g.AddNode("MatMul", [q, kT]), scale]), additive]);
            var context = g.AddNode("MatMul", [g.AddNode("Softmax", [scores], null, Attribute("axis", -1L)), v]);
            context = g.AddNode("Reshape", [g.AddNode("Transpose", [context], null, Attribute("perm", [0L, 2, 1, 3])), mergeHeads]);
            var attended = LayerNorm(g, g.AddNode("Add", [Linear(g, context, p + "attention.output.dense", checkpoint), x]), p + "attention.output.LayerNorm", Weight, c.LayerNormEps);
            var h = Linear(g, attended, p + "intermediate.dense", checkpoint);
            // Exact GELU: 0.5 x (1 + erf(x / sqrt 2)).
            h = g.AddNode("Mul", [g.AddNode("Mul", [h, F(0.5f)]), g.AddNode("Add", [F(1), g.AddNode("Erf", [g.AddNode("Mul", [h, F((float)(1 / Math.Sqrt(2)))])])])]);
            x = LayerNorm(g, g.AddNode("Add", [Linear(g, h, p + "output.dense", checkpoint), attended]), p + "output.LayerNorm", Weight, c.LayerNormEps);
        }

        if (pooling is null)
        {
            g.AddNode("Identity", [x], namePrefix + LastHiddenState);
            g.AddOutput(namePrefix + LastHiddenState, OnnxElementType.Float, Batch, Sequence, c.HiddenSize);
            return g;
        }
        string pooled;
        if (pooling == EmbeddingPooling.Cls)
        {
            pooled = g.AddNode("Gather", [x, g.AddInitializer(g.NewName("first"), [0L], [])], null, Attribute("axis", 1L));
        }
        else
        {
            // Sum of token vectors over the mask divided by the token count (at least 1e-9, as sentence-transformers).
            var weights = g.AddNode("Unsqueeze", [maskFloat, I(2)]);
            var sum = g.AddNode("ReduceSum", [g.AddNode("Mul", [x, weights]), I(1)], null, Attribute("keepdims", 0L));
            var count = g.AddNode("Max", [g.AddNode("ReduceSum", [maskFloat, I(1)], null, Attribute("keepdims", 1L)), F(1e-9f)]);
            pooled = g.AddNode("Div", [sum, count]);
        }
        if (head is not null)
        {
            int outputs = head.Bias.Length;
            var logits = checkpoint.Quantized is { } quantized && quantized.TryGetValue("classifier", out var packedHead)
                ? PackedLinearGraph.Write(g, pooled, "classifier", packedHead, head.Bias)
                : g.AddNode("Gemm", [pooled, g.AddInitializer("classifier.weight", head.Weight, outputs, c.HiddenSize), g.AddInitializer("classifier.bias", head.Bias, outputs)],
                    null, Attribute("transB", 1L));
            if (outputs == 1)
            {
                g.AddNode("Reshape", [logits, I(-1)], Score);
                g.AddOutput(Score, OnnxElementType.Float, Batch);
                return g;
            }
            g.AddNode("Softmax", [logits], Score, Attribute("axis", -1L));
            g.AddOutput(Score, OnnxElementType.Float, Batch, outputs);
            var index = g.AddNode("Add", [g.AddNode("ArgMax", [logits], null, Attribute("axis", 1L), Attribute("keepdims", 0L)), g.AddInitializer(g.NewName("one"), [1L], 1)]);
            g.AddNode("Cast", [index], PredictedLabel, Attribute("to", (long)OnnxElementType.Float));
            g.AddOutput(PredictedLabel, OnnxElementType.Float, Batch);
            return g;
        }
        if (normalize)
        {
            var norm = g.AddNode("Max", [g.AddNode("ReduceL2", [pooled], null, Attribute("axes", [1L]), Attribute("keepdims", 1L)), F(1e-12f)]);
            pooled = g.AddNode("Div", [pooled, norm]);
        }
        if (perRowSlots is null)
        {
            g.AddNode("Identity", [pooled], namePrefix + Embedding);
            g.AddOutput(namePrefix + Embedding, OnnxElementType.Float, Batch, c.HiddenSize);
        }
        else
        {
            g.AddNode("Reshape", [pooled, I(c.HiddenSize)], namePrefix + Embedding);
            g.AddOutput(namePrefix + Embedding, OnnxElementType.Float, c.HiddenSize);
        }
        return g;
    }

    private static string LayerNorm(OnnxGraphBuilder g, string x, string name, Func<string, string> weight, double eps) =>
        g.AddNode("LayerNormalization", [x, weight(name + ".weight"), weight(name + ".bias")], null, Attribute("axis", -1L), Attribute("epsilon", (float)eps));

    /// <summary>x W^T + b with W stored [out, in]: the graph keeps W^T ([in, out]) for MatMul; a quantized Linear writes its packed form.</summary>
    private static string Linear(OnnxGraphBuilder g, string x, string name, EncoderCheckpoint checkpoint)
    {
        var weight = checkpoint.Tensors[name + ".weight"];
        var bias = checkpoint.Tensors[name + ".bias"];
        if (checkpoint.Quantized is { } quantized && quantized.TryGetValue(name, out var packed))
            return PackedLinearGraph.Write(g, x, name, packed, bias.Values);
        int rows = (int)weight.Shape[0], cols = (int)weight.Shape[1];
        var transposed = new float[weight.Values.Length];
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < cols; k++) transposed[k * rows + r] = weight.Values[r * cols + k];
        return g.AddNode("Add", [g.AddNode("MatMul", [x, g.AddInitializer(name + ".weight", transposed, cols, rows)]), g.AddInitializer(name + ".bias", bias.Values, rows)]);
    }
}

/// <summary>A Linear head for the encoder graph: weight [outputs, hidden] row-major and bias [outputs].</summary>
internal sealed record TextHeadWeights(float[] Weight, float[] Bias);
