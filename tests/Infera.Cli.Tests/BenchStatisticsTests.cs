using Infera.Cli;

namespace Infera.Tests;

public sealed class BenchStatisticsTests
{
    [Fact]
    public void Quantile_InterpolatesBetweenRanks()
    {
        double[] values = [4, 1, 3, 2];

        Assert.Equal(2.5, Statistics.Median(values), 9);
        Assert.Equal(1.75, Statistics.Quantile(values, 0.25), 9);
        Assert.Equal(3.25, Statistics.Quantile(values, 0.75), 9);
        Assert.Equal(1, Statistics.Quantile(values, 0));
        Assert.Equal(4, Statistics.Quantile(values, 1));
        Assert.Equal(0, Statistics.Median([]));
    }

    [Fact]
    public void Paired_UsesEachRoundsOwnBaseline_NotTheRatioOfMedians()
    {
        // The baseline swings 2x between rounds (another process took the core in rounds 2 and 4); the candidate is
        // always 10% slower than the baseline of its own round. The ratio of the two medians would say 0.99x.
        double[] baseline = [1000, 2000, 1000, 2000, 1000];
        double[] candidate = [900, 1800, 900, 1800, 900];

        var ratio = Statistics.Paired(candidate, baseline);
        var difference = Statistics.Paired(candidate, baseline, difference: true);

        Assert.Equal(0.9, ratio.Median, 9);
        Assert.Equal(0.9, ratio.LowerQuartile, 9);
        Assert.Equal(0.9, ratio.UpperQuartile, 9);
        Assert.Equal(-100, difference.Median, 9);
        Assert.Equal(-200, difference.LowerQuartile, 9);
    }

    [Fact]
    public void Paired_DifferentRoundCounts_Throws() =>
        Assert.Throws<ArgumentException>(() => Statistics.Paired([1, 2], [1]));
}
