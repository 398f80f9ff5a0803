using System.Runtime.InteropServices;

namespace Infera.Native;

/// <summary>The C library's memory-advice, page-cache and heap calls (Linux).</summary>
internal static unsafe partial class Libc
{
    /// <summary><c>MADV_DONTNEED</c>: drop the range's pages; a private file mapping reads them again from the file.</summary>
    internal const int MadviseDontNeed = 4;

    /// <summary><c>MADV_RANDOM</c>: a file mapping's page faults read and map no pages beyond the one asked for.</summary>
    internal const int MadviseRandom = 1;

    /// <summary><c>POSIX_FADV_WILLNEED</c>: start reading the range into the page cache.</summary>
    internal const int FadviseWillNeed = 3;

    /// <summary><c>POSIX_FADV_DONTNEED</c>: drop the range's clean page-cache pages that no process maps.</summary>
    internal const int FadviseDontNeed = 4;

    /// <summary><c>MADV_COLLAPSE</c> (Linux 6.1): copy the range onto transparent huge pages now.</summary>
    internal const int MadviseCollapse = 25;

    /// <summary><c>EPERM</c>.</summary>
    internal const int NotPermitted = 1;

    /// <summary><c>EINVAL</c>: among others, an advice this kernel does not know.</summary>
    internal const int InvalidArgument = 22;

    /// <summary><c>M_TRIM_THRESHOLD</c>: free memory at the top of the heap beyond this is given back to the kernel.</summary>
    internal const int TrimThreshold = -1;

    /// <summary><c>M_MMAP_THRESHOLD</c>: allocations of at least this size are mapped on their own, and unmapped when freed.</summary>
    internal const int MmapThreshold = -3;

    [LibraryImport("libc", EntryPoint = "mallopt")]
    internal static partial int Mallopt(int parameter, int value);

    /// <summary><c>posix_fadvise</c>; returns 0 or an error number.</summary>
    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    internal static partial int PosixFadvise(int fd, long offset, long length, int advice);

    /// <summary><c>sync_file_range</c> with wait-before, write and wait-after: the range's dirty pages written back; 0 or -1.</summary>
    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    internal static partial int SyncFileRange(int fd, long offset, long length, uint flags);

    /// <summary><c>SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER</c>.</summary>
    internal const uint SyncFileRangeWriteAndWait = 1 | 2 | 4;

    /// <summary><c>malloc_trim</c>: gives the C heap's free pages back to the kernel, in every arena.</summary>
    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    internal static partial int MallocTrim(nuint pad);

    [LibraryImport("libc", EntryPoint = "gnu_get_libc_version")]
    internal static partial nint GnuGetLibcVersion();

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    internal static partial int Madvise(nint address, nuint length, int advice);

    [LibraryImport("libc", EntryPoint = "mincore", SetLastError = true)]
    internal static partial int Mincore(nint address, nuint length, byte* residency);
}
