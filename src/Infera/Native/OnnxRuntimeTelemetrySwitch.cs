using System.Runtime.InteropServices;

namespace Infera.Native;

/// <summary>
/// Sets <c>ORT_DISABLE_TELEMETRY=1</c> in the C library's environment, which ONNX Runtime and GenAI read once when they
/// initialize (.NET's own copy of the environment is separate on Unix), unless the process set the variable itself.
/// </summary>
/// <remarks>
/// Compiled into Infera (behind <c>Infera.OnnxRuntimeTelemetry</c>) and, as a linked file, into Infera.ModelBuilder, whose
/// perplexity evaluator loads models without Infera. Only Linux and macOS, where ONNX Runtime starts an uploader.
/// </remarks>
internal static partial class OnnxRuntimeTelemetrySwitch
{
    /// <summary>The environment variable ONNX Runtime reads: <c>1</c> turns its telemetry off.</summary>
    internal const string EnvironmentVariable = "ORT_DISABLE_TELEMETRY";

    /// <summary>Sets the variable unless the process has it; returns whether it was set here.</summary>
    internal static bool TurnOffUnlessSet()
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) || Environment.GetEnvironmentVariable(EnvironmentVariable) is not null)
        {
            return false;
        }

        try
        {
            // Without overwriting: a value the C library has (set by native code since the start) stays. Processes started
            // from .NET take .NET's copy of the environment and keep the parent's choice.
            return Setenv(EnvironmentVariable, "1", 0) == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Setenv(string name, string value, int overwrite);
}
