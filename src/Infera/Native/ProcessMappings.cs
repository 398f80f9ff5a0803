using System.Globalization;

namespace Infera.Native;

/// <summary>The process's memory mappings as Linux reports them in <c>/proc/self/smaps</c>: range, permissions, file, resident and copy-on-write sizes.</summary>
internal static class ProcessMappings
{
    /// <summary>Reads <c>/proc/self/smaps</c> (Linux only).</summary>
    internal static List<Mapping> Read()
    {
        var mappings = new List<Mapping>();
        Mapping? current = null;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            if (line.Length > 0 && char.IsAsciiHexDigit(line[0]) && line.IndexOf('-', StringComparison.Ordinal) is > 0 and var dash
                && line.IndexOf(' ', StringComparison.Ordinal) is > 0 and var space && space > dash)
            {
                // "start-end perms offset dev inode [path]"
                var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                current = new Mapping
                {
                    Start = long.Parse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                    End = long.Parse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                    Permissions = fields[1],
                    Offset = long.Parse(fields[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                    Inode = long.Parse(fields[4], NumberStyles.Integer, CultureInfo.InvariantCulture),
                    Path = fields.Length == 6 ? fields[5].Trim() : string.Empty,
                };
                mappings.Add(current);
            }
            else if (current is not null && line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                current.ResidentKiB = Kilobytes(line);
            }
            else if (current is not null && line.StartsWith("Anonymous:", StringComparison.Ordinal))
            {
                current.AnonymousKiB = Kilobytes(line);
            }
        }

        return mappings;
    }

    private static long Kilobytes(string line) =>
        long.Parse(line.AsSpan(line.IndexOf(':', StringComparison.Ordinal) + 1).Trim().TrimEnd("kB").Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture);

    /// <summary>One mapping.</summary>
    internal sealed class Mapping
    {
        public long Start { get; init; }

        public long End { get; init; }

        /// <summary>Gets the permissions as <c>rw-p</c> (read, write, execute, private or shared).</summary>
        public string Permissions { get; init; } = string.Empty;

        /// <summary>Gets the offset in the mapped file at which the mapping starts.</summary>
        public long Offset { get; init; }

        /// <summary>Gets the inode of the mapped file; 0 for anonymous memory.</summary>
        public long Inode { get; init; }

        /// <summary>Gets the mapped file, a pseudo-path such as <c>[heap]</c>, or empty for anonymous memory.</summary>
        public string Path { get; init; } = string.Empty;

        public long ResidentKiB { get; set; }

        /// <summary>Gets the mapping's own (anonymous or copy-on-write) pages, in KiB.</summary>
        public long AnonymousKiB { get; set; }
    }
}
