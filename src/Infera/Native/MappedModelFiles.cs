using System.Globalization;
using System.Runtime.InteropServices;

namespace Infera.Native;

/// <summary>
/// Gives back the pages of a model's files that ONNX Runtime read while loading and no longer needs resident.
/// </summary>
/// <remarks>
/// <para>
/// ONNX Runtime maps each initializer of a model's external data file into memory. The <c>MatMulNBits</c> weights it
/// prepacks are read once, copied into its own buffers and never read again, but the file pages read stay mapped in
/// the process and count in its resident set: for a Qwen2.5-0.5B-sized int4 model about 66 MiB (the language-model
/// head's codes), for an imported Q8_0 head twice that. <see cref="Release"/> drops the resident pages of every mapping
/// of the folder's files that holds no page of its own (no copy-on-write page: <c>Anonymous: 0 kB</c> in
/// <c>/proc/self/smaps</c>) with <c>madvise(MADV_DONTNEED)</c>. The pages stay in the page cache; a later read of the
/// same bytes (an embedding row, a norm's weights) maps them again from there, with the same contents. Mappings with
/// pages of their own are left alone, so nothing written is ever lost.
/// </para>
/// <para>Only on Linux; turned off with <c>INFERA_RELEASE_MODEL_PAGES=0</c>.</para>
/// </remarks>
internal static partial class MappedModelFiles
{
    private const int MadviseDontNeed = 4;

    /// <summary>Drops the clean resident pages of the mappings of files under <paramref name="folder"/>; returns the bytes dropped.</summary>
    internal static long Release(string folder)
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("INFERA_RELEASE_MODEL_PAGES")?.Trim() is "0" or "false" or "off")
        {
            return 0;
        }

        var prefix = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)) + Path.DirectorySeparatorChar;
        long released = 0;
        try
        {
            foreach (var mapping in Mappings())
            {
                if (mapping.Path.StartsWith(prefix, StringComparison.Ordinal) && mapping.AnonymousKiB == 0 && mapping.ResidentKiB > 0
                    && madvise((nint)mapping.Start, (nuint)(mapping.End - mapping.Start), MadviseDontNeed) == 0)
                {
                    released += mapping.ResidentKiB * 1024;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or EntryPointNotFoundException or DllNotFoundException)
        {
        }

        return released;
    }

    /// <summary>The process's mappings with their file, resident and copy-on-write sizes, from <c>/proc/self/smaps</c>.</summary>
    internal static List<Mapping> Mappings()
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

    [LibraryImport("libc", SetLastError = true)]
    private static partial int madvise(nint address, nuint length, int advice);

    /// <summary>One mapping of <c>/proc/self/smaps</c>.</summary>
    internal sealed class Mapping
    {
        public long Start { get; init; }

        public long End { get; init; }

        public string Path { get; init; } = string.Empty;

        public long ResidentKiB { get; set; }

        public long AnonymousKiB { get; set; }
    }
}
