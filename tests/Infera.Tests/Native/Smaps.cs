using System.Globalization;

namespace Infera.Tests;

/// <summary>The test's own reading of <c>/proc/self/smaps</c>, an oracle independent of the code under test.</summary>
internal static class Smaps
{
    /// <summary>Every mapping: its range, its path (empty for anonymous memory) and its size fields in KiB (<c>Rss</c>, <c>Anonymous</c>, <c>AnonHugePages</c>, ...).</summary>
    public static List<(long Start, long End, string Path, Dictionary<string, long> KiB)> Read()
    {
        var mappings = new List<(long, long, string, Dictionary<string, long>)>();
        Dictionary<string, long>? current = null;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            var dash = line.IndexOf('-', StringComparison.Ordinal);
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (dash > 0 && space > dash && long.TryParse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var start)
                && long.TryParse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var end))
            {
                var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                current = [];
                mappings.Add((start, end, fields.Length == 6 ? fields[5].Trim() : string.Empty, current));
            }
            else if (current is not null && line.EndsWith(" kB", StringComparison.Ordinal) && line.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon)
            {
                current[line[..colon]] = long.Parse(line[(colon + 1)..^3].Trim(), CultureInfo.InvariantCulture);
            }
        }

        return mappings;
    }
}
