namespace Infera.Cli;

/// <summary>Order statistics for benchmark results: medians and quartiles, and paired comparisons of two contestants.</summary>
internal static class Statistics
{
    /// <summary>The median, or 0 for no values.</summary>
    public static double Median(IEnumerable<double> values) => Quantile(values, 0.5);

    /// <summary>The <paramref name="q"/>-quantile (0..1) with linear interpolation between the closest ranks, or 0 for no values.</summary>
    public static double Quantile(IEnumerable<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return 0;
        }

        var position = Math.Clamp(q, 0, 1) * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + ((position - lower) * (sorted[upper] - sorted[lower]));
    }

    /// <summary>
    /// Compares two contestants measured in the same rounds: the median over rounds of each round's ratio (or difference)
    /// and its quartiles. Pairing cancels what a round shares (another process taking the cores for a while), which the
    /// ratio of the two medians does not.
    /// </summary>
    public static PairedSummary Paired(IReadOnlyList<double> candidate, IReadOnlyList<double> baseline, bool difference = false)
    {
        if (candidate.Count != baseline.Count)
        {
            throw new ArgumentException("Paired samples must have one value per round for each contestant.", nameof(baseline));
        }

        var values = candidate.Zip(baseline, (c, b) => difference ? c - b : b == 0 ? 0 : c / b).ToArray();
        return new PairedSummary(Median(values), Quantile(values, 0.25), Quantile(values, 0.75));
    }
}

/// <summary>The median of per-round ratios (or differences) and their first and third quartiles.</summary>
internal readonly record struct PairedSummary(double Median, double LowerQuartile, double UpperQuartile);
