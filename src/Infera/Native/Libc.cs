using System.Runtime.InteropServices;

namespace Infera.Native;

/// <summary>The C library's memory-advice, heap and environment calls (Linux; <c>setenv</c> also on macOS).</summary>
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

    /// <summary><c>M_TRIM_THRESHOLD</c>: free memory at the top of the heap beyond this is given back to the kernel.</summary>
    internal const int TrimThreshold = -1;

    /// <summary><c>M_MMAP_THRESHOLD</c>: allocations of at least this size are mapped on their own, and unmapped when freed.</summary>
    internal const int MmapThreshold = -3;

    [LibraryImport("libc", EntryPoint = "mallopt")]
    internal static partial int Mallopt(int parameter, int value);

    [LibraryImport("libc", EntryPoint = "gnu_get_libc_version")]
    internal static partial nint GnuGetLibcVersion();

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    internal static partial int Madvise(nint address, nuint length, int advice);

    /// <summary>Sets a variable in the C library's environment (which native code reads; .NET's own copy is separate on Unix).</summary>
    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Setenv(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "mincore", SetLastError = true)]
    internal static partial int Mincore(nint address, nuint length, byte* residency);
}
