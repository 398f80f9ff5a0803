using System.Runtime.InteropServices;

namespace Infera.Native;

/// <summary>The C library's memory-advice calls (Linux).</summary>
internal static unsafe partial class Libc
{
    /// <summary><c>MADV_DONTNEED</c>: drop the range's pages; a private file mapping reads them again from the file.</summary>
    internal const int MadviseDontNeed = 4;

    /// <summary><c>MADV_COLLAPSE</c> (Linux 6.1): copy the range onto transparent huge pages now.</summary>
    internal const int MadviseCollapse = 25;

    /// <summary><c>EPERM</c>.</summary>
    internal const int NotPermitted = 1;

    /// <summary><c>EINVAL</c>: among others, an advice this kernel does not know.</summary>
    internal const int InvalidArgument = 22;

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    internal static partial int Madvise(nint address, nuint length, int advice);

    [LibraryImport("libc", EntryPoint = "mincore", SetLastError = true)]
    internal static partial int Mincore(nint address, nuint length, byte* residency);
}
