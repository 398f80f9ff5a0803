using System.Runtime.InteropServices;
using Infera.Native;

namespace Infera.Tests;

/// <summary>
/// <see cref="HeapReuse"/>: once set, glibc serves blocks up to 32 MiB from its heap (reused after a free) instead of
/// mapping each on its own; a process started with its own thresholds keeps them.
/// </summary>
public sealed class HeapReuseTests
{
    [Theory]
    [InlineData(null, null, null, false)]
    [InlineData("glibc.rtld.optional_static_tls=4096", null, null, false)]
    [InlineData("glibc.malloc.mmap_threshold=1048576", null, null, true)]
    [InlineData("glibc.malloc.arena_max=2:glibc.malloc.trim_threshold=0", null, null, true)]
    [InlineData(null, "131072", null, true)]
    [InlineData(null, null, "0", true)]
    [InlineData(null, " ", "", false)]
    public void ProcessSetsThresholds_ReadsTunablesAndTheLegacyVariables(string? tunables, string? mmap, string? trim, bool expected) =>
        Assert.Equal(expected, HeapReuse.ProcessSetsThresholds(tunables, mmap, trim));

    [Fact]
    public void KeepFreedMemory_OnGlibc_BlocksUpToTheThresholdComeFromTheHeap()
    {
        var set = HeapReuse.KeepFreedMemory();
        if (!OperatingSystem.IsLinux() || HeapReuse.ProcessSetsThresholds(
                Environment.GetEnvironmentVariable("GLIBC_TUNABLES"),
                Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_"),
                Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_")))
        {
            Assert.False(set);
            return;
        }

        Assert.True(set, "glibc's thresholds were not set");
        Assert.True(HeapReuse.IsSet);

        // glibc marks a block mapped on its own with bit 1 of the size word just before it. 24 MiB is more than glibc's
        // adaptive threshold reaches unless such a block was freed before; 40 MiB is past the 32 MiB set here.
        Assert.False(IsMappedOnItsOwn(24 << 20), "a 24 MiB block was mapped on its own");
        Assert.True(IsMappedOnItsOwn(40 << 20), "a 40 MiB block came from the heap (the oracle does not see mapped blocks)");
        Assert.True(HeapReuse.KeepFreedMemory(), "a second call changed the answer");
    }

    private static bool IsMappedOnItsOwn(int bytes)
    {
        // Marshal.AllocHGlobal is malloc on Unix.
        var block = Marshal.AllocHGlobal(bytes);
        try
        {
            return (Marshal.ReadIntPtr(block, -IntPtr.Size) & 2) != 0;
        }
        finally
        {
            Marshal.FreeHGlobal(block);
        }
    }
}
