using CsCheck;

namespace Infera.Numerics.Tests.Sampling;

public sealed class TopPTests
{
    [Fact]
    public void Select_RandomDistributions_KeepsSmallestRankedPrefixReachingPInIndexOrder()
    {
        var probabilities = Gen.OneOf(
            Gen.Single[0f, 1f].Array[1, 3000],
            Gen.Single[-8f, 0f].Select(MathF.Exp).Array[60, 3000],
            Gen.Int[0, 3].Select(i => i / 3f).Array[1, 300]);
        Gen.Select(probabilities, Gen.Single[0.01f, 1f]).Sample((w, p) =>
        {
            var destination = new int[w.Length];
            var count = TopP.Select(w, p, destination);
            var ranking = Enumerable.Range(0, w.Length).OrderByDescending(i => w[i]).ThenBy(i => i).Take(count).ToArray();
            if (count < 1 || !destination.Take(count).SequenceEqual(ranking.Order()))
            {
                return false;
            }

            // The kept set is a prefix of the ranking; it reaches p and would not without its least likely member.
            var total = w.Sum(v => (double)v);
            var kept = ranking.Sum(i => (double)w[i]);
            var withoutLast = kept - w[ranking[^1]];
            return kept >= (p * total * (1 - 1e-5)) && (count == 1 || withoutLast < p * total * (1 + 1e-5));
        }, iter: 200);
    }

    [Fact]
    public void Count_SortedProbabilities_StopsWhereMassReachesP()
    {
        float[] sorted = [0.5f, 0.25f, 0.125f, 0.125f];

        Assert.Equal(1, TopP.Count(sorted, 0.5f));
        Assert.Equal(2, TopP.Count(sorted, 0.6f));
        Assert.Equal(2, TopP.Count(sorted, 0.75f));
        Assert.Equal(4, TopP.Count(sorted, 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => TopP.Count(sorted, 0f));
    }

    [Fact]
    public void MinP_Count_KeepsProbabilitiesAtLeastMinPTimesLargest()
    {
        float[] sorted = [0.5f, 0.25f, 0.0625f, 0.03125f];

        Assert.Equal(3, MinP.Count(sorted, 0.125f));
        Assert.Equal(1, MinP.Count(sorted, 1f));
        Assert.Equal(4, MinP.Count(sorted, 0f));
    }

    [Fact]
    public void MinP_Apply_MasksBelowThresholdInLogitDomain()
    {
        float[] logits = [0f, -1f, -3f, 2f];

        var kept = MinP.Apply(logits, MathF.Exp(-2.5f));

        // max 2: threshold 2 - 2.5 = -0.5 keeps 0 and 2.
        Assert.Equal(2, kept);
        Assert.Equal([0f, float.NegativeInfinity, float.NegativeInfinity, 2f], logits);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Select_LargeVocabulary_EqualsSortedPrefix(bool peaked)
    {
        const int n = 151936;
        var logits = peaked ? TestData.PeakedLogits(n, 3) : TestData.Normal(n, 3, 2f);
        var max = logits.Max();
        var w = logits.Select(l => MathF.Exp(l - max)).ToArray();
        var destination = new int[n];

        var count = TopP.Select(w, 0.9f, destination);

        var ranking = Enumerable.Range(0, n).OrderByDescending(i => w[i]).ThenBy(i => i).ToArray();
        var total = w.Sum(v => (double)v);
        var cumulative = 0.0;
        var expected = 0;
        while (cumulative < 0.9 * total)
        {
            cumulative += w[ranking[expected++]];
        }

        Assert.InRange(count, expected - 1, expected + 1);
        Assert.Equal(ranking.Take(count).Order(), destination.Take(count));
    }
}
