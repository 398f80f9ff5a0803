using Infera.Numerics;

namespace Infera.Benchmarks.Numerics;

/// <summary>Seeded inputs shared by the numerics benchmarks.</summary>
internal static class BenchmarkData
{
    /// <summary>N(0, scale²) values from a fixed seed.</summary>
    public static float[] Normal(int length, ulong seed, float scale = 1f)
    {
        var random = new SeededRandom(seed, 7);
        var values = new float[length];
        for (var i = 0; i < length; i++)
        {
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            values[i] = scale * (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }

        return values;
    }

    /// <summary>
    /// Logits shaped like a language model's next-token distribution: a broad N(0, 1.5²) floor and 40 strong
    /// candidates at +8..+16, so that top-p 0.9 keeps a few dozen tokens.
    /// </summary>
    public static float[] PeakedLogits(int length, ulong seed)
    {
        var logits = Normal(length, seed, 1.5f);
        var random = new SeededRandom(seed, 11);
        for (var i = 0; i < 40; i++)
        {
            logits[random.NextInt32(length)] = 8f + (8f * random.NextSingle());
        }

        return logits;
    }

    /// <summary>The "Flat" distribution: N(0, 1) logits, where top-p 0.9 keeps most of the vocabulary.</summary>
    public static float[] Logits(string distribution, int length, ulong seed) =>
        distribution == "Flat" ? Normal(length, seed) : PeakedLogits(length, seed);

    /// <summary>A straightforward scalar draw: sort the whole vocabulary, then walk the cumulative probabilities.</summary>
    public static int[] SortedIndices(float[] logits, ulong[] keys, int[] indices)
    {
        for (var i = 0; i < logits.Length; i++)
        {
            // Descending logit, then ascending index, as one sortable key.
            var bits = BitConverter.SingleToUInt32Bits(logits[i]);
            var ascending = (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
            keys[i] = ((ulong)~ascending << 32) | (uint)i;
        }

        Array.Sort(keys);
        for (var i = 0; i < logits.Length; i++)
        {
            indices[i] = (int)(uint)keys[i];
        }

        return indices;
    }
}
