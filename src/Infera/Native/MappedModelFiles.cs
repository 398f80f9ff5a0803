namespace Infera.Native;

/// <summary>
/// Gives back the pages of a model's files that ONNX Runtime read while loading and no longer needs resident.
/// </summary>
/// <remarks>
/// <para>
/// ONNX Runtime maps each initializer of a model's external data file into memory. The <c>MatMulNBits</c> weights it
/// prepacks are read once, copied into its own buffers and never read again, but the file pages read stay mapped in
/// the process and count in its resident set: for a Qwen2.5-0.5B-sized int4 model about 47-66 MiB (mostly the
/// language-model head's codes). <see cref="Release"/> drops the resident pages of every mapping
/// of the folder's files that holds no page of its own (no copy-on-write page: <c>Anonymous: 0 kB</c> in
/// <c>/proc/self/smaps</c>) with <c>madvise(MADV_DONTNEED)</c>. The pages stay in the page cache; a later read of the
/// same bytes (an embedding row, a norm's weights) maps them again from there, with the same contents. Mappings with
/// pages of their own are left alone, so nothing written is ever lost.
/// </para>
/// <para>Only on Linux; turned off with <c>INFERA_RELEASE_MODEL_PAGES=0</c>.</para>
/// </remarks>
internal static class MappedModelFiles
{
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
            foreach (var mapping in ProcessMappings.Read())
            {
                if (mapping.Path.StartsWith(prefix, StringComparison.Ordinal) && mapping.AnonymousKiB == 0 && mapping.ResidentKiB > 0
                    && Libc.Madvise((nint)mapping.Start, (nuint)(mapping.End - mapping.Start), Libc.MadviseDontNeed) == 0)
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
}
