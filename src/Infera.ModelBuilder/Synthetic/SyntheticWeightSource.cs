namespace Infera.ModelBuilder;

/// <summary>Seeded random weights: uniform with the standard deviation Hugging Face initializes with (0.02), norms at 1.</summary>
internal sealed class SyntheticWeightSource(TransformerConfig config, int seed) : WeightSource
{
    private const float StandardDeviation = 0.02f;

    public override TransformerConfig Config { get; } = config;

    public override string Name => "synthetic";

    public override float[] Read(WeightKind kind, int layer)
    {
        long count = ExpectedLength(kind);
        var result = new float[count];
        if (kind is WeightKind.AttentionNorm or WeightKind.FeedForwardNorm or WeightKind.FinalNorm)
        {
            Array.Fill(result, 1f);
            return result;
        }

        if (kind == WeightKind.LanguageModelHead && Config.TiedEmbeddings)
        {
            kind = WeightKind.Embedding;
        }

        float amplitude = StandardDeviation * MathF.Sqrt(3f);
        const int Chunk = 1 << 16;
        long chunks = (count + Chunk - 1) / Chunk;
        ulong baseSeed = Mix(((ulong)(uint)seed << 32) ^ ((ulong)kind << 16) ^ (ulong)(layer + 1));
        Parallel.For(0L, chunks, chunk =>
        {
            ulong state = Mix(baseSeed + (ulong)chunk);
            long start = chunk * Chunk;
            long end = Math.Min(start + Chunk, count);
            for (long i = start; i < end; i++)
            {
                state = Mix(state);
                float unit = (state >> 40) * (1f / (1 << 24));
                result[i] = ((2 * unit) - 1) * amplitude;
            }
        });
        return result;
    }

    /// <summary>SplitMix64's finalizer: a cheap, well-mixed hash of the state.</summary>
    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
