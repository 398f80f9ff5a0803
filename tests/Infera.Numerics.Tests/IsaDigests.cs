using System.Security.Cryptography;

namespace Infera.Numerics.Tests;

/// <summary>Results that must not depend on the vector width: sampled token ids and quantized bytes.</summary>
internal static class IsaDigests
{
    public static string SampledTokens()
    {
        var settings = new[]
        {
            new SamplingParameters { Temperature = 0f },
            new SamplingParameters { Seed = 1 },
            new SamplingParameters { Seed = 2, Temperature = 0.8f, TopK = 40 },
            new SamplingParameters { Seed = 3, TopP = 0.9f },
            new SamplingParameters { Seed = 4, MinP = 0.05f, RepetitionPenalty = 1.2f, FrequencyPenalty = 0.5f },
        };
        var tokens = new List<int>();
        foreach (var parameters in settings)
        {
            var sampler = new LogitsSampler(parameters, 4099);
            for (var step = 0; step < 20; step++)
            {
                var logits = TestData.PeakedLogits(4099, (ulong)step);
                var token = sampler.Sample(logits).TokenId;
                sampler.Accept(token);
                tokens.Add(token);
            }
        }

        return string.Join(',', tokens);
    }

    public static string Quantized() => Quantization.Int4Checks.Digest();

    public static string Hash(ReadOnlySpan<byte> bytes) => Convert.ToHexString(SHA256.HashData(bytes))[..16];
}
