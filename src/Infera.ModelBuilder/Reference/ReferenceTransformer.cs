using System.Numerics.Tensors;

namespace Infera.ModelBuilder;

/// <summary>
/// A plain float32 forward pass of a Llama-family decoder, written for clarity rather than speed: the reference that converted
/// graphs are checked against. Keeps a key/value cache, so tokens are fed one at a time.
/// </summary>
internal sealed class ReferenceTransformer
{
    private readonly TransformerConfig _c;
    private readonly float[] _embedding;
    private readonly float[] _head;
    private readonly float[] _finalNorm;
    private readonly Layer[] _layers;
    private readonly double[] _inverseFrequencies;
    private readonly List<float[]>[] _keys;
    private readonly List<float[]>[] _values;

    public ReferenceTransformer(WeightSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        _c = source.Config;
        _embedding = source.Read(WeightKind.Embedding, 0);
        _head = _c.TiedEmbeddings ? _embedding : source.Read(WeightKind.LanguageModelHead, 0);
        _finalNorm = source.Read(WeightKind.FinalNorm, 0);
        _layers = new Layer[_c.LayerCount];
        for (int l = 0; l < _c.LayerCount; l++)
        {
            _layers[l] = new Layer(
                source.Read(WeightKind.AttentionNorm, l),
                source.Read(WeightKind.Query, l),
                source.Read(WeightKind.Key, l),
                source.Read(WeightKind.Value, l),
                _c.AttentionBias ? source.Read(WeightKind.QueryBias, l) : null,
                _c.AttentionBias ? source.Read(WeightKind.KeyBias, l) : null,
                _c.AttentionBias ? source.Read(WeightKind.ValueBias, l) : null,
                source.Read(WeightKind.AttentionOutput, l),
                source.Read(WeightKind.FeedForwardNorm, l),
                source.Read(WeightKind.Gate, l),
                source.Read(WeightKind.Up, l),
                source.Read(WeightKind.Down, l));
        }

        _inverseFrequencies = RotaryFrequencies.Inverse(_c);
        _keys = Enumerable.Range(0, _c.LayerCount).Select(_ => new List<float[]>()).ToArray();
        _values = Enumerable.Range(0, _c.LayerCount).Select(_ => new List<float[]>()).ToArray();
    }

    public int Position => _keys[0].Count;

    /// <summary>Returns the logits after each of <paramref name="tokens"/>, continuing from the current position.</summary>
    public float[][] Run(IReadOnlyList<int> tokens) => tokens.Select(Forward).ToArray();

    /// <summary>Feeds one token at the next position and returns the logits [vocabulary].</summary>
    public float[] Forward(int token)
    {
        int hidden = _c.HiddenSize, hd = _c.EffectiveHeadSize, heads = _c.HeadCount, kvHeads = _c.KeyValueHeadCount;
        int position = Position;
        var x = _embedding.AsSpan(token * hidden, hidden).ToArray();
        var normed = new float[hidden];
        for (int l = 0; l < _layers.Length; l++)
        {
            var layer = _layers[l];
            RmsNorm(x, layer.AttentionNorm, normed);
            var q = MatVec(layer.Query, normed, heads * hd, layer.QueryBias);
            var k = MatVec(layer.Key, normed, kvHeads * hd, layer.KeyBias);
            var v = MatVec(layer.Value, normed, kvHeads * hd, layer.ValueBias);
            Rotate(q, heads, position);
            Rotate(k, kvHeads, position);
            _keys[l].Add(k);
            _values[l].Add(v);

            var attention = new float[heads * hd];
            int group = heads / kvHeads;
            int first = _c.WindowOf(l) is int w ? Math.Max(0, position - w + 1) : 0;
            var scores = new float[position + 1];
            for (int h = 0; h < heads; h++)
            {
                int kv = h / group;
                var qh = q.AsSpan(h * hd, hd);
                float max = float.NegativeInfinity;
                for (int t = first; t <= position; t++)
                {
                    scores[t] = TensorPrimitives.Dot(qh, _keys[l][t].AsSpan(kv * hd, hd)) / MathF.Sqrt(hd);
                    max = Math.Max(max, scores[t]);
                }

                float sum = 0;
                for (int t = first; t <= position; t++)
                {
                    scores[t] = MathF.Exp(scores[t] - max);
                    sum += scores[t];
                }

                var output = attention.AsSpan(h * hd, hd);
                for (int t = first; t <= position; t++)
                {
                    TensorPrimitives.MultiplyAdd(_values[l][t].AsSpan(kv * hd, hd), scores[t] / sum, output, output);
                }
            }

            var projected = MatVec(layer.Output, attention, hidden, null);
            TensorPrimitives.Add(x, projected, x);

            RmsNorm(x, layer.FeedForwardNorm, normed);
            var gate = MatVec(layer.Gate, normed, _c.IntermediateSize, null);
            var up = MatVec(layer.Up, normed, _c.IntermediateSize, null);
            for (int i = 0; i < gate.Length; i++)
            {
                gate[i] = gate[i] / (1f + MathF.Exp(-gate[i])) * up[i];
            }

            var down = MatVec(layer.Down, gate, hidden, null);
            TensorPrimitives.Add(x, down, x);
        }

        RmsNorm(x, _finalNorm, normed);
        return MatVec(_head, normed, _c.VocabularySize, null);
    }

    private void RmsNorm(float[] x, float[] weight, float[] output)
    {
        float meanSquare = TensorPrimitives.Dot(x, x) / x.Length;
        float scale = 1f / MathF.Sqrt(meanSquare + _c.RmsNormEpsilon);
        for (int i = 0; i < x.Length; i++)
        {
            output[i] = x[i] * scale * weight[i];
        }
    }

    private static float[] MatVec(float[] matrix, float[] vector, int rows, float[]? bias)
    {
        var result = new float[rows];
        int columns = vector.Length;
        for (int r = 0; r < rows; r++)
        {
            result[r] = TensorPrimitives.Dot(matrix.AsSpan(r * columns, columns), vector) + (bias?[r] ?? 0f);
        }

        return result;
    }

    private void Rotate(float[] vectors, int heads, int position)
    {
        int hd = _c.EffectiveHeadSize, half = hd / 2;
        for (int h = 0; h < heads; h++)
        {
            var head = vectors.AsSpan(h * hd, hd);
            for (int i = 0; i < half; i++)
            {
                double angle = position * _inverseFrequencies[i];
                float cos = (float)Math.Cos(angle), sin = (float)Math.Sin(angle);
                int a = _c.RotaryInterleaved ? 2 * i : i;
                int b = _c.RotaryInterleaved ? (2 * i) + 1 : i + half;
                float x0 = head[a], x1 = head[b];
                head[a] = (x0 * cos) - (x1 * sin);
                head[b] = (x0 * sin) + (x1 * cos);
            }
        }
    }

    private sealed record Layer(
        float[] AttentionNorm,
        float[] Query,
        float[] Key,
        float[] Value,
        float[]? QueryBias,
        float[]? KeyBias,
        float[]? ValueBias,
        float[] Output,
        float[] FeedForwardNorm,
        float[] Gate,
        float[] Up,
        float[] Down);
}
