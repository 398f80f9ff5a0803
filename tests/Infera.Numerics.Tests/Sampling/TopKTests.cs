using CsCheck;

namespace Infera.Numerics.Tests.Sampling;

public sealed class TopKTests
{
    private static int[] StableDescending(float[] values) =>
        Enumerable.Range(0, values.Length).OrderByDescending(i => values[i]).ThenBy(i => i).ToArray();

    [Fact]
    public void Select_RandomValuesWithTies_KeepsExactlyTheKLargestLowerIndexFirst()
    {
        var values = Gen.OneOf(
            Gen.Single[-5f, 5f].Array[1, 400],
            Gen.Int[0, 4].Select(i => (float)i).Array[1, 400]);
        Gen.Select(values, Gen.Int[0, 450]).Sample((v, k) =>
        {
            var destination = new int[Math.Min(k, v.Length)];
            var count = TopK.Select(v, k, destination);
            return count == destination.Length && destination.SequenceEqual(StableDescending(v).Take(count));
        }, iter: 300);
    }

    [Fact]
    public void Select_LargeVocabulary_MatchesStableSort()
    {
        foreach (var (n, k) in new[] { (151936, 40), (32000, 1), (128256, 1000), (4099, 4099) })
        {
            var logits = TestData.PeakedLogits(n, (ulong)k);
            var destination = new int[k];

            var count = TopK.Select(logits, k, destination);

            Assert.Equal(k, count);
            Assert.Equal(StableDescending(logits).Take(k), destination);
        }
    }

    [Fact]
    public void Select_KZeroOrDestinationTooShort_HandledExplicitly()
    {
        Assert.Equal(0, TopK.Select([1f, 2f], 0, []));
        Assert.Throws<ArgumentException>(() => TopK.Select([1f, 2f, 3f], 2, new int[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => TopK.Select([1f], -1, new int[1]));
    }
}
