namespace Infera.Numerics.Tests.Sampling;

public sealed class SoftmaxTests
{
    [Fact]
    public void Compute_LargeLogits_NoNaN()
    {
        var destination = new float[3];

        Softmax.Compute([100f, 101f, 99f], destination);

        var e = new[] { Math.Exp(-1), 1, Math.Exp(-2) };
        var sum = e.Sum();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(e[i] / sum, destination[i], 6);
        }
    }

    [Fact]
    public void Compute_EveryLength_MatchesDoubleReference()
    {
        foreach (var n in TestData.Lengths())
        {
            var logits = TestData.Normal(n, (ulong)n, 5f);
            var destination = new float[n];
            Softmax.Compute(logits, destination, temperature: 0.7f);
            if (n == 0)
            {
                continue;
            }

            var max = logits.Max();
            var e = logits.Select(l => Math.Exp((l - max) / 0.7)).ToArray();
            var sum = e.Sum();
            for (var i = 0; i < n; i++)
            {
                Assert.True(Math.Abs(destination[i] - (e[i] / sum)) <= 1e-6 + (1e-5 * e[i] / sum), $"n={n} i={i}");
            }
        }
    }

    [Fact]
    public void Compute_InPlace_SameAsOutOfPlace()
    {
        var logits = TestData.Normal(1001, 1, 3f);
        var expected = new float[1001];
        Softmax.Compute(logits, expected);

        Softmax.Compute(logits, logits);

        Assert.Equal(expected, logits);
    }

    [Fact]
    public void LogSoftmax_EveryLength_MatchesDoubleReference()
    {
        foreach (var n in TestData.Lengths().Where(n => n > 0))
        {
            var logits = TestData.Normal(n, (ulong)n + 5, 10f, 50f);
            var destination = new float[n];
            LogSoftmax.Compute(logits, destination);

            var max = logits.Max();
            var lse = max + Math.Log(logits.Sum(l => Math.Exp(l - (double)max)));
            for (var i = 0; i < n; i++)
            {
                Assert.True(Math.Abs(destination[i] - (logits[i] - lse)) <= 2e-5 * Math.Max(1, Math.Abs(logits[i] - lse)), $"n={n} i={i}");
            }
        }
    }

    [Fact]
    public void ArgMax_Ties_LowestIndex()
    {
        Assert.Equal(1, ArgMax.Compute([1f, 5f, 2f, 5f, 5f]));
        Assert.Equal(0, ArgMax.Compute([float.NegativeInfinity, float.NegativeInfinity]));
        Assert.Throws<ArgumentException>(() => ArgMax.Compute([]));
    }
}
