using System.Runtime.InteropServices;

namespace Infera.Native;

/// <summary>
/// Moves the memory a loaded model's weights occupy onto 2 MiB pages (Linux transparent huge pages), so that reading
/// them costs one address-translation entry per 2 MiB instead of one per 4 KiB.
/// </summary>
/// <remarks>
/// <para>
/// ONNX Runtime keeps each <c>MatMulNBits</c> weight in a buffer of its own, written once while the session loads
/// (prepacked). Every generated token reads all of them, hundreds of MiB, which at 4 KiB pages is one page walk per
/// 64 cache lines; on a virtual machine a page walk goes through two levels of page tables. Most distributions set
/// transparent huge pages to <c>madvise</c>, so memory that nobody asked for them stays on 4 KiB pages. After the model
/// loads, <see cref="CollapseResidentAnonymousMemory"/> asks the kernel (<c>MADV_COLLAPSE</c>, Linux 6.1 and later) to
/// copy every fully resident, 2 MiB-aligned stretch of private anonymous memory of at least
/// <see cref="MinimumRegionBytes"/> onto huge pages. Only stretches whose every 4 KiB page is already resident are
/// collapsed (checked with <c>mincore</c>), so the resident set does not grow. Where the kernel or the system does not
/// allow it, nothing changes.
/// </para>
/// <para>
/// The runner does this only when asked (<see cref="IsEnabled"/>). Measured in docs/benchmarks/model-builder.md: +7%
/// decode in one run, nothing beyond the noise in two later ones.
/// </para>
/// </remarks>
internal static class HugePages
{
    /// <summary>
    /// The smallest model whose weights are moved: below it they fit in the caches' reach anyway, and looking costs a
    /// one-shot command on stories260K about 15 ms.
    /// </summary>
    internal const long MinimumModelBytes = 64L << 20;

    /// <summary>The smallest mapping considered: smaller ones are not weights.</summary>
    internal const long MinimumRegionBytes = 4L << 20;

    private const long HugePageBytes = 2L << 20;

    /// <summary>
    /// Gets a value indicating whether the runner moves a loaded model's weights onto huge pages: only when
    /// <c>INFERA_HUGE_PAGES=1</c>. Off by default: after the warm-up change the gain was not shown (0.5-0.8 s more load,
    /// decode within noise in alternated runs, docs/benchmarks/model-builder.md).
    /// </summary>
    internal static bool IsEnabled => Environment.GetEnvironmentVariable("INFERA_HUGE_PAGES")?.Trim() is "1" or "true" or "on";

    /// <summary>
    /// Collapses the fully resident 2 MiB stretches of large private anonymous mappings onto huge pages; returns the
    /// bytes collapsed (0 where not on Linux or refused by the kernel).
    /// </summary>
    internal static long CollapseResidentAnonymousMemory()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        long collapsed = 0;
        try
        {
            foreach (var (start, end) in LargeAnonymousMappings())
            {
                collapsed += CollapseResident(start, end);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or EntryPointNotFoundException or DllNotFoundException)
        {
        }

        return collapsed;
    }

    /// <summary>
    /// Private read-write mappings with no file behind them (and the heap), at least <see cref="MinimumRegionBytes"/>
    /// long and with at least one huge page's worth resident.
    /// </summary>
    private static IEnumerable<(long Start, long End)> LargeAnonymousMappings() =>
        ProcessMappings.Read()
            .Where(m => m.Permissions == "rw-p" && m.Inode == 0 && m.Path is ("" or "[heap]")
                && m.End - m.Start >= MinimumRegionBytes && m.ResidentKiB * 1024 >= HugePageBytes)
            .Select(m => (m.Start, m.End));

    private static unsafe long CollapseResident(long start, long end)
    {
        var first = (start + HugePageBytes - 1) & ~(HugePageBytes - 1);
        var last = end & ~(HugePageBytes - 1);
        if (last <= first)
        {
            return 0;
        }

        var pageBytes = Environment.SystemPageSize;
        var pagesPerHugePage = (int)(HugePageBytes / pageBytes);
        var resident = new byte[pagesPerHugePage];
        long collapsed = 0;
        fixed (byte* residency = resident)
        {
            for (var address = first; address < last; address += HugePageBytes)
            {
                if (Libc.Mincore((nint)address, (nuint)HugePageBytes, residency) != 0 || !AllResident(resident))
                {
                    continue;
                }

                if (Libc.Madvise((nint)address, (nuint)HugePageBytes, Libc.MadviseCollapse) == 0)
                {
                    collapsed += HugePageBytes;
                }
                else if (Marshal.GetLastPInvokeError() is Libc.InvalidArgument or Libc.NotPermitted)
                {
                    return collapsed;
                }
            }
        }

        return collapsed;
    }

    private static bool AllResident(ReadOnlySpan<byte> residency)
    {
        foreach (var page in residency)
        {
            if ((page & 1) == 0)
            {
                return false;
            }
        }

        return true;
    }

}
