using System.Runtime.InteropServices;

namespace Infera.ModelBuilder;

/// <summary>
/// Turns ONNX Runtime's telemetry off before <see cref="PerplexityEvaluator"/> makes its first native call, as Infera's
/// runner does (<c>Infera.OnnxRuntimeTelemetry</c>, in a package this one does not depend on): ONNX Runtime and GenAI
/// read <c>ORT_DISABLE_TELEMETRY</c> from the C library's environment once, when they initialize. A process that set the
/// variable itself (to any value) keeps its choice; only Linux and macOS, where they start an uploader.
/// </summary>
internal static partial class OnnxRuntimeTelemetryOff
{
    internal const string EnvironmentVariable = "ORT_DISABLE_TELEMETRY";

    private static int _done;

    internal static void UnlessSet()
    {
        if (Interlocked.Exchange(ref _done, 1) != 0
            || !(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
            || Environment.GetEnvironmentVariable(EnvironmentVariable) is not null)
        {
            return;
        }

        try
        {
            // Without overwriting: a value native code set since the start stays.
            _ = Setenv(EnvironmentVariable, "1", 0);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Setenv(string name, string value, int overwrite);
}
