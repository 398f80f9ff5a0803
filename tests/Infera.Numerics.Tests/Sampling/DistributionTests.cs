namespace Infera.Numerics.Tests.Sampling;

/// <summary>
/// Sampled frequencies against the expected distribution: Pearson's chi-square test with a fixed seed at
/// significance level α = 0.001 (critical value from the Wilson–Hilferty approximation, z = 3.0902), with bins
/// of expected count below 5 merged.
/// </summary>
public sealed class DistributionTests
{
    public static TheoryData<int, bool, float, int, float, float> Cases() => new()
    {
        // vocabulary, peaked, temperature, topK, topP, minP
        { 40, false, 1f, 0, 1f, 0f },
        { 40, false, 0.6f, 0, 1f, 0f },
        { 40, false, 1.5f, 10, 1f, 0f },
        { 40, false, 1f, 0, 0.8f, 0f },
        { 40, false, 1f, 0, 1f, 0.2f },
        { 40, false, 0.8f, 25, 0.7f, 0.05f },
        { 3000, true, 1f, 0, 1f, 0f },
        { 3000, true, 1.2f, 0, 0.9f, 0f },
        { 1500, false, 1f, 0, 0.95f, 0f },
        { 1500, false, 1f, 0, 0.1f, 0f },
        { 1500, true, 0.9f, 0, 0.5f, 0.01f },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Sample_ManyDraws_FrequenciesMatchFilteredSoftmax(int vocabulary, bool peaked, float temperature, int topK, float topP, float minP)
    {
        const int draws = 20000;
        var logits = peaked ? TestData.PeakedLogits(vocabulary, 21) : TestData.Normal(vocabulary, 21, 1.5f);
        var expected = Expected(logits, temperature, topK, topP, minP);
        var sampler = new LogitsSampler(new SamplingParameters { Temperature = temperature, TopK = topK, TopP = topP, MinP = minP, Seed = 2024 }, vocabulary);
        var counts = new int[vocabulary];
        var scratch = new float[vocabulary];
        for (var i = 0; i < draws; i++)
        {
            logits.CopyTo(scratch, 0);
            counts[sampler.Sample(scratch).TokenId]++;
        }

        for (var i = 0; i < vocabulary; i++)
        {
            Assert.True(expected[i] > 0 || counts[i] == 0, $"token {i} drawn {counts[i]} times but filtered out");
        }

        var (statistic, degrees) = ChiSquare(counts, expected, draws);
        var critical = degrees * Math.Pow(1 - (2.0 / (9 * degrees)) + (3.0902 * Math.Sqrt(2.0 / (9 * degrees))), 3);
        Assert.True(statistic < critical, $"chi-square {statistic:F1} >= {critical:F1} with {degrees} degrees of freedom");
    }

    private static double[] Expected(float[] logits, float temperature, int topK, float topP, float minP)
    {
        var n = logits.Length;
        var order = Enumerable.Range(0, n).OrderByDescending(i => logits[i]).ThenBy(i => i).ToArray();
        var keep = topK > 0 ? Math.Min(topK, n) : n;
        var max = logits[order[0]];
        var weights = order.Take(keep).Select(i => Math.Exp((logits[i] - (double)max) / temperature)).ToArray();
        var total = weights.Sum();
        if (topP < 1)
        {
            var cumulative = 0.0;
            for (var i = 0; i < keep; i++)
            {
                cumulative += weights[i];
                if (cumulative >= topP * total)
                {
                    keep = i + 1;
                    break;
                }
            }
        }

        if (minP > 0)
        {
            keep = Math.Min(keep, weights.TakeWhile(w => w >= minP * weights[0]).Count());
        }

        var probabilities = new double[n];
        var mass = weights.Take(keep).Sum();
        for (var i = 0; i < keep; i++)
        {
            probabilities[order[i]] = weights[i] / mass;
        }

        return probabilities;
    }

    private static (double Statistic, int Degrees) ChiSquare(int[] counts, double[] probabilities, int draws)
    {
        var bins = new List<(double Expected, int Observed)>();
        double pendingExpected = 0;
        var pendingObserved = 0;
        foreach (var i in Enumerable.Range(0, counts.Length).Where(i => probabilities[i] > 0).OrderByDescending(i => probabilities[i]))
        {
            pendingExpected += probabilities[i] * draws;
            pendingObserved += counts[i];
            if (pendingExpected >= 5)
            {
                bins.Add((pendingExpected, pendingObserved));
                pendingExpected = 0;
                pendingObserved = 0;
            }
        }

        if (pendingExpected > 0 && bins.Count > 0)
        {
            var last = bins[^1];
            bins[^1] = (last.Expected + pendingExpected, last.Observed + pendingObserved);
        }

        var statistic = bins.Sum(b => (b.Observed - b.Expected) * (b.Observed - b.Expected) / b.Expected);
        return (statistic, Math.Max(1, bins.Count - 1));
    }
}
