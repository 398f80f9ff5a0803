using System.Text;

namespace Infera;

/// <summary>Finds operator names in an ONNX graph file without parsing it: operator types are stored as plain strings.</summary>
internal static class GraphScanner
{
    private const int ChunkSize = 1 << 20;

    /// <summary>Returns, for each of <paramref name="names"/>, whether it occurs in the file.</summary>
    public static bool[] FindAll(string path, ReadOnlySpan<string> names)
    {
        var found = new bool[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            found[i] = FindFirst(path, [names[i]]) is not null;
        }

        return found;
    }

    /// <summary>Returns the first of <paramref name="names"/> (in their order of preference) that occurs in the file, or <see langword="null"/>.</summary>
    public static string? FindFirst(string path, ReadOnlySpan<string> names)
    {
        var patterns = new byte[names.Length][];
        var longest = 0;
        for (var i = 0; i < names.Length; i++)
        {
            patterns[i] = Encoding.ASCII.GetBytes(names[i]);
            longest = Math.Max(longest, patterns[i].Length);
        }

        var found = new bool[names.Length];
        var buffer = new byte[ChunkSize + longest];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        var carried = 0;
        int read;
        while ((read = stream.Read(buffer, carried, ChunkSize)) > 0)
        {
            var window = buffer.AsSpan(0, carried + read);
            for (var i = 0; i < patterns.Length; i++)
            {
                if (!found[i] && window.IndexOf(patterns[i]) >= 0)
                {
                    found[i] = true;
                    if (i == 0)
                    {
                        return names[0];
                    }
                }
            }

            carried = Math.Min(longest - 1, window.Length);
            window[^carried..].CopyTo(buffer);
        }

        for (var i = 0; i < names.Length; i++)
        {
            if (found[i])
            {
                return names[i];
            }
        }

        return null;
    }
}
