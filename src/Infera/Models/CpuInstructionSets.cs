using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Infera;

/// <summary>What the CPU this process runs on offers the int4 kernels, read once at run time.</summary>
internal static class CpuInstructionSets
{
    private static readonly Lazy<bool> Int8DotProduct = new(Detect);

    /// <summary>
    /// Gets a value indicating whether the CPU multiplies int8 vectors with dot-product instructions (x64: AVX-VNNI or
    /// AVX512-VNNI; Arm64: the dot-product extension). ONNX Runtime's <c>MatMulNBits</c> at <c>accuracy_level</c> 4
    /// quantizes activations to int8 and then uses them; without them its float path processes prompts faster.
    /// </summary>
    public static bool HasInt8DotProduct => Int8DotProduct.Value;

    private static bool Detect()
    {
        if (Dp.Arm64.IsSupported || AvxVnni.IsSupported || Avx10v1.IsSupported)
        {
            return true;
        }

        // .NET does not report AVX512-VNNI on its own (CPUs with it but without AVX-VNNI: Intel Cascade Lake, Ice Lake
        // server); Linux lists it among the CPU flags.
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                var flags = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
                return flags is not null && flags.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("avx512_vnni");
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return false;
    }
}
