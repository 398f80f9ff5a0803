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
/// <para>
/// Mappings of 1 MiB or more that are still there after loading are tables the graph reads a row at a time (an embedding
/// table's codes and scales for <c>GatherBlockQuantized</c>). Linux maps a file page-cache folio whole on a fault, and a
/// file written or read in large pieces sits in the page cache in folios of up to 2 MiB: 58 random rows of a
/// Qwen2.5-0.5B-sized int4 table (448 bytes each) made 45 MiB of it resident. For these mappings <see cref="Release"/>
/// also asks for no read-ahead (<c>MADV_RANDOM</c>) and has the kernel read the range into the page cache again
/// (<c>POSIX_FADV_DONTNEED</c>, then <c>POSIX_FADV_WILLNEED</c>, whose read-in makes small folios: at most 64 KiB in
/// the tests here; a range written moments ago is written back first, since dirty pages are not dropped), so that a row
/// maps little more than the pages it lies on: those 58 rows then made 1-5 MiB resident. Pages another process maps stay
/// as they are.
/// </para>
/// <para>
/// A release must not overlap the creation or freeing of a session in the same process (<see cref="ChangingMappings"/>):
/// ONNX Runtime unmaps a prepacked weight's file range while it loads, and the C library may map the same addresses for
/// new memory at once. Doing the release every 50 ms during loading, to keep the head's file pages from sitting beside
/// their prepacked copy, lowered the peak of a GGUF import from 694 to 600-656 MiB but corrupted the C heap in 3 of 8
/// runs (<c>free(): invalid pointer</c>) for that reason, and was not kept.
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
        Mappings.EnterWriteLock();
        try
        {
            var tables = new List<ProcessMappings.Mapping>();
            foreach (var mapping in ProcessMappings.Read())
            {
                if (!mapping.Path.StartsWith(prefix, StringComparison.Ordinal) || mapping.AnonymousKiB != 0)
                {
                    continue;
                }

                if (mapping.End - mapping.Start >= MinimumTableBytes)
                {
                    tables.Add(mapping);
                }

                if (mapping.ResidentKiB > 0 && Libc.Madvise((nint)mapping.Start, (nuint)(mapping.End - mapping.Start), Libc.MadviseDontNeed) == 0)
                {
                    released += mapping.ResidentKiB * 1024;
                }
            }

            ReadInSmallFolios(tables);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or EntryPointNotFoundException or DllNotFoundException)
        {
        }
        finally
        {
            Mappings.ExitWriteLock();
        }

        return released;
    }

    /// <summary>
    /// To be held while ONNX Runtime creates or frees a session in this process (<c>new Model</c>, <c>Model.Dispose</c>):
    /// both map and unmap model files, and the address range of a file mapping just unmapped can be mapped again at once
    /// for other memory (a prepacked weight's buffer, the C heap). <see cref="Release"/> advises the ranges it read from
    /// <c>/proc/self/smaps</c> and holds the lock alone, so no range it advises can change hands in between: another load
    /// or disposal of the same folder (a model loaded twice, or reloaded while its old copy is freed) waits for it.
    /// Holders of the shared side do not wait for one another.
    /// </summary>
    internal static MappingChange ChangingMappings()
    {
        Mappings.EnterReadLock();
        return new MappingChange();
    }

    /// <summary>Ends a <see cref="ChangingMappings"/> scope, on the thread that began it.</summary>
    internal readonly struct MappingChange : IDisposable
    {
        public void Dispose() => Mappings.ExitReadLock();
    }

    /// <summary>The lock behind <see cref="ChangingMappings"/> and <see cref="Release"/>.</summary>
    internal static readonly ReaderWriterLockSlim Mappings = new(LockRecursionPolicy.NoRecursion);

    /// <summary>The size from which a mapping left after loading is a table read a row at a time.</summary>
    internal const long MinimumTableBytes = 1 << 20;

    /// <summary>
    /// Turns off read-ahead on the tables' mappings and has the kernel read their file ranges into the page cache again,
    /// in small folios instead of the large ones a file written or read sequentially sits in.
    /// </summary>
    private static void ReadInSmallFolios(List<ProcessMappings.Mapping> tables)
    {
        foreach (var file in tables.GroupBy(t => t.Path))
        {
            using var handle = File.OpenHandle(file.Key, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var fd = (int)handle.DangerousGetHandle();
            foreach (var table in file)
            {
                long length = table.End - table.Start;
                _ = Libc.Madvise((nint)table.Start, (nuint)length, Libc.MadviseRandom);

                // A file written moments ago (a conversion just before) still has dirty pages, which the kernel does not drop.
                _ = Libc.SyncFileRange(fd, table.Offset, length, Libc.SyncFileRangeWriteAndWait);
                if (Libc.PosixFadvise(fd, table.Offset, length, Libc.FadviseDontNeed) == 0)
                {
                    _ = Libc.PosixFadvise(fd, table.Offset, length, Libc.FadviseWillNeed);
                }
            }
        }
    }
}
