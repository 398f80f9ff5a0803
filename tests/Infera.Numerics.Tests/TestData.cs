namespace Infera.Numerics.Tests;

/// <summary>Seeded test data, identical on every machine.</summary>
internal static class TestData
{
    /// <summary>Gets or sets a value indicating whether to skip the vocabulary-sized lengths (the ISA child processes do, to stay fast).</summary>
    public static bool Quick { get; set; }

    /// <summary>Every length 0..256 and a few large ones, some not a multiple of any vector width.</summary>
    public static IEnumerable<int> Lengths()
    {
        for (var n = 0; n <= 256; n++)
        {
            yield return n;
        }

        yield return 1000;
        yield return 4099;
        if (!Quick)
        {
            yield return 32000;
            yield return 151936;
        }
    }

    public static float[] Normal(int length, ulong seed, float scale = 1f, float mean = 0f)
    {
        var random = new SeededRandom(seed, 7);
        var values = new float[length];
        for (var i = 0; i < length; i++)
        {
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            values[i] = mean + (scale * (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2)));
        }

        return values;
    }

    /// <summary>Logits shaped like a language model's: a broad N(0, 1.5²) floor and a few dozen strong candidates.</summary>
    public static float[] PeakedLogits(int length, ulong seed)
    {
        var logits = Normal(length, seed, 1.5f);
        var random = new SeededRandom(seed, 11);
        var strong = Math.Min(40, length);
        for (var i = 0; i < strong; i++)
        {
            logits[random.NextInt32(length)] = 8f + (8f * random.NextSingle());
        }

        return logits;
    }

    /// <summary>Values drawn from a few distinct levels, so that ties are common.</summary>
    public static float[] WithTies(int length, ulong seed, int levels = 5)
    {
        var random = new SeededRandom(seed, 13);
        var values = new float[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = random.NextInt32(levels);
        }

        return values;
    }
}
