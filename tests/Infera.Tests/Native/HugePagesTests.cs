using System.Runtime.InteropServices;
using Infera.Native;

namespace Infera.Tests;

/// <summary>
/// <see cref="HugePages"/>: fully resident stretches of large anonymous memory move onto 2 MiB pages, and memory that
/// was never touched stays untouched (the resident set does not grow). Residency is read from <c>/proc/self/pagemap</c>
/// and huge pages from <c>/proc/self/smaps</c>, not from the code under test.
/// </summary>
public sealed class HugePagesTests
{
    private const int HugePage = 2 << 20;

    [Fact]
    public void CollapseResidentAnonymousMemory_FullyWrittenStretchesCollapse_UntouchedPagesStayUntouched()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Equal(0, HugePages.CollapseResidentAnonymousMemory());
            return;
        }

        // Two 8 MiB stretches, 2 MiB-aligned: one written in full, one with only the first 4 KiB page of each 2 MiB.
        const int Size = 8 << 20;
        var block = Marshal.AllocHGlobal((2 * Size) + HugePage);
        try
        {
            var full = (block + HugePage - 1) & ~(nint)(HugePage - 1);
            var sparse = full + Size;
            var ones = new byte[HugePage];
            Array.Fill(ones, (byte)1);
            for (var offset = 0; offset < Size; offset += HugePage)
            {
                Marshal.Copy(ones, 0, full + offset, HugePage);
                Marshal.WriteByte(sparse + offset, 1);
            }

            var sparseResidentBefore = ResidentPages(sparse, Size);
            Assert.Equal(Size / Environment.SystemPageSize, ResidentPages(full, Size));

            var collapsed = HugePages.CollapseResidentAnonymousMemory();

            // Never faults in what was not resident.
            Assert.Equal(sparseResidentBefore, ResidentPages(sparse, Size));
            Assert.Equal(Size / Environment.SystemPageSize, ResidentPages(full, Size));
            for (var offset = 0; offset < Size; offset += HugePage)
            {
                Assert.Equal(1, Marshal.ReadByte(full + offset + 12345));
            }

            if (CollapseSupported())
            {
                Assert.True(collapsed >= Size, $"collapsed {collapsed} bytes");
                Assert.True(AnonHugePagesKiB(full) >= Size / 1024, $"{AnonHugePagesKiB(full)} KiB of huge pages in the mapping");
            }
        }
        finally
        {
            Marshal.FreeHGlobal(block);
        }
    }

    /// <summary>MADV_COLLAPSE exists from Linux 6.1; transparent huge pages must not be turned off.</summary>
    private static bool CollapseSupported()
    {
        var enabled = "/sys/kernel/mm/transparent_hugepage/enabled";
        return Environment.OSVersion.Version >= new Version(6, 1) && File.Exists(enabled) && !File.ReadAllText(enabled).Contains("[never]", StringComparison.Ordinal);
    }

    /// <summary>Counts the present pages of a range from <c>/proc/self/pagemap</c> (bit 63 of each page's entry).</summary>
    private static int ResidentPages(nint address, int length)
    {
        var page = Environment.SystemPageSize;
        var entries = new byte[length / page * 8];
        using var pagemap = new FileStream("/proc/self/pagemap", FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        pagemap.Seek(address / page * 8, SeekOrigin.Begin);
        pagemap.ReadExactly(entries);
        var present = 0;
        for (var i = 0; i < entries.Length; i += 8)
        {
            if ((BitConverter.ToUInt64(entries, i) & (1UL << 63)) != 0)
            {
                present++;
            }
        }

        return present;
    }

    /// <summary>The <c>AnonHugePages</c> of the mapping that holds <paramref name="address"/>, in KiB.</summary>
    private static long AnonHugePagesKiB(nint address) =>
        Smaps.Read().Where(m => address >= m.Start && address < m.End).Sum(m => m.KiB.GetValueOrDefault("AnonHugePages"));
}
