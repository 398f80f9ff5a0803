using CsCheck;

namespace Infera.Numerics.Tests.Sampling;

public sealed class PenaltiesTests
{
    [Fact]
    public void ApplyRepetition_AnyLogits_EqualsHuggingFaceFormula()
    {
        Gen.Select(Gen.Single[-20f, 20f].Array[1, 100], Gen.Single[0.1f, 3f]).Sample((logits, penalty) =>
        {
            var ids = Enumerable.Range(0, logits.Length).Where(i => i % 3 == 0).ToArray();
            var actual = (float[])logits.Clone();
            Penalties.ApplyRepetition(actual, ids, penalty);
            for (var i = 0; i < logits.Length; i++)
            {
                var expected = i % 3 != 0 ? logits[i] : logits[i] > 0 ? logits[i] / penalty : logits[i] * penalty;
                if (actual[i] != expected)
                {
                    return false;
                }
            }

            return true;
        });
    }

    [Fact]
    public void ApplyFrequencyAndPresence_AnyCounts_EqualsOpenAIFormula()
    {
        Gen.Select(Gen.Single[-20f, 20f].Array[10, 50], Gen.Single[-2f, 2f], Gen.Single[-2f, 2f], Gen.Int[0, 5].Array[5]).Sample((logits, frequency, presence, counts) =>
        {
            int[] ids = [0, 2, 4, 6, 8];
            var actual = (float[])logits.Clone();
            Penalties.ApplyFrequencyAndPresence(actual, ids, counts, frequency, presence);
            for (var i = 0; i < logits.Length; i++)
            {
                var slot = Array.IndexOf(ids, i);
                var count = slot < 0 ? 0 : counts[slot];
                var expected = logits[i] - ((count * frequency) + (count > 0 ? presence : 0f));
                if (count == 0)
                {
                    expected = logits[i];
                }

                if (actual[i] != expected)
                {
                    return false;
                }
            }

            return true;
        });
    }

    [Fact]
    public void ApplyLogitBias_AddsBias()
    {
        float[] logits = [1f, 2f, 3f];

        Penalties.ApplyLogitBias(logits, [0, 2], [-100f, 0.5f]);

        Assert.Equal([-99f, 2f, 3.5f], logits);
        Assert.Throws<ArgumentOutOfRangeException>(() => Penalties.ApplyLogitBias(logits, [3], [1f]));
        Assert.Throws<ArgumentException>(() => Penalties.ApplyLogitBias(logits, [1], []));
    }
}
