using System.Runtime.Intrinsics.X86;

namespace Infera.Benchmarks;

/// <summary>The CPU model, its vector instruction sets and the load average, for benchmark reports.</summary>
internal static class MachineDescription
{
    public static string Cpu()
    {
        if (File.Exists("/proc/cpuinfo"))
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null)
            {
                return line[(line.IndexOf(':') + 1)..].Trim();
            }
        }

        return System.Runtime.InteropServices.RuntimeInformation.OSArchitecture.ToString();
    }

    /// <summary>The AVX2 / AVX-512 / VNNI flags of <c>/proc/cpuinfo</c>, or what .NET reports where it is missing.</summary>
    public static string InstructionSets()
    {
        if (File.Exists("/proc/cpuinfo"))
        {
            var flags = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
            if (flags is not null)
            {
                var wanted = flags[(flags.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
                    .Where(f => f == "avx2" || f == "fma" || f.StartsWith("avx512", StringComparison.Ordinal) || f.Contains("vnni", StringComparison.Ordinal) || f.StartsWith("amx", StringComparison.Ordinal))
                    .Order(StringComparer.Ordinal);
                return string.Join(' ', wanted);
            }
        }

        var sets = new List<string>();
        if (Avx2.IsSupported)
        {
            sets.Add("avx2");
        }

        if (Avx512F.IsSupported)
        {
            sets.Add("avx512f");
        }

        if (AvxVnni.IsSupported)
        {
            sets.Add("avx_vnni");
        }

        return sets.Count == 0 ? "none of AVX2/AVX-512" : string.Join(' ', sets);
    }

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
