namespace Infera.Native;

/// <summary>
/// Keeps the C heap's freed memory for reuse when ONNX Runtime allocates every step's tensors from it.
/// </summary>
/// <remarks>
/// <para>
/// With its CPU arena off (<see cref="IntraOpThreadPolicy.TurnsOffCpuArena"/>), ONNX Runtime allocates each operator's
/// output with the C library's allocator and frees it at the end of the step. glibc's defaults give such memory back to
/// the kernel: freed memory at the top of the heap beyond 128 KiB is trimmed, and blocks above the (adaptive) mapping
/// threshold are mapped and unmapped on their own, so the next step faults the same pages in again. Two batch workers of
/// stories260K-gqa serving 8 concurrent streams spent about a tenth of the server's time in <c>malloc</c>, <c>free</c>
/// and page faults; with the thresholds below the server's CPU per token fell from 65-70 to 53-60 us and the throughput
/// rose 10-20% (<c>docs/benchmarks/serving.md</c>).
/// </para>
/// <para>
/// <see cref="KeepFreedMemory"/> sets glibc's thresholds to the largest values its adaptive scheme would reach on its own
/// (blocks up to 32 MiB from the heap, up to 64 MiB of free memory kept at its top), once per process. It changes nothing
/// on other C libraries or operating systems, nor when the process was started with its own malloc thresholds
/// (<c>GLIBC_TUNABLES</c> or <c>MALLOC_MMAP_THRESHOLD_</c>/<c>MALLOC_TRIM_THRESHOLD_</c>).
/// </para>
/// </remarks>
internal static class HeapReuse
{
    /// <summary>The largest block served from the heap rather than mapped on its own (glibc's adaptive maximum).</summary>
    internal const int MmapThresholdBytes = 32 << 20;

    /// <summary>The free memory kept at the top of the heap (twice the mapping threshold, as glibc's adaptive scheme sets it).</summary>
    internal const int TrimThresholdBytes = 64 << 20;

    private static int _state;

    /// <summary>Gets a value indicating whether this process's heap thresholds were set by <see cref="KeepFreedMemory"/>.</summary>
    internal static bool IsSet => Volatile.Read(ref _state) == 1;

    /// <summary>Sets glibc's mapping and trimming thresholds once per process; returns whether they are set.</summary>
    internal static bool KeepFreedMemory()
    {
        if (Volatile.Read(ref _state) != 0)
        {
            return IsSet;
        }

        var set = OperatingSystem.IsLinux()
            && !ProcessSetsThresholds(
                Environment.GetEnvironmentVariable("GLIBC_TUNABLES"),
                Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_"),
                Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_"))
            && IsGlibc()
            && Libc.Mallopt(Libc.MmapThreshold, MmapThresholdBytes) == 1
            && Libc.Mallopt(Libc.TrimThreshold, TrimThresholdBytes) == 1;
        Interlocked.CompareExchange(ref _state, set ? 1 : 2, 0);
        return IsSet;
    }

    /// <summary>Whether the process was started with malloc thresholds of its own, which are left as they are.</summary>
    internal static bool ProcessSetsThresholds(string? glibcTunables, string? mmapThreshold, string? trimThreshold) =>
        !string.IsNullOrWhiteSpace(mmapThreshold)
        || !string.IsNullOrWhiteSpace(trimThreshold)
        || (glibcTunables is not null
            && (glibcTunables.Contains("glibc.malloc.mmap_threshold", StringComparison.Ordinal)
                || glibcTunables.Contains("glibc.malloc.trim_threshold", StringComparison.Ordinal)));

    /// <summary>
    /// Gives the free memory of every C heap arena back to the kernel (<c>malloc_trim</c>, glibc only); returns whether it
    /// ran. The runner calls it once its model and tokenizer are loaded: building a session and a tokenizer frees most of
    /// what they allocate, and glibc keeps freed memory below the top of a thread's arena resident. For a
    /// Qwen2.5-0.5B-sized model with a 151,936-token vocabulary this gave back about 9 MiB.
    /// </summary>
    internal static bool TrimAfterLoad()
    {
        if (!OperatingSystem.IsLinux() || !IsGlibc())
        {
            return false;
        }

        _ = Libc.MallocTrim(0);
        return true;
    }

    private static bool IsGlibc()
    {
        try
        {
            return Libc.GnuGetLibcVersion() != 0;
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }
}
