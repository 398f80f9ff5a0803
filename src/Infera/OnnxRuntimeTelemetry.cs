using Infera.Native;

namespace Infera;

/// <summary>
/// ONNX Runtime's telemetry. Since 1.29 ONNX Runtime and ONNX Runtime GenAI start an uploader on Linux and macOS when
/// they initialize: a device identifier and growing SQLite stores under <c>~/.cache/Microsoft/DeveloperTools/.onnxruntime</c>,
/// and attempts to send them. Infera runs models locally and sends nothing anywhere, so it turns that off before it
/// loads a model, unless the process says otherwise.
/// </summary>
/// <remarks>
/// ONNX Runtime reads <see cref="EnvironmentVariable"/> once, when it initializes. <see cref="OnnxModelRunner"/> calls
/// <see cref="TurnOffUnlessSet"/> before its first native call, and so does the <c>infera</c> tool when it starts; an
/// app that calls ONNX Runtime itself before loading a model through Infera should call it first. A process started
/// with the variable set (to any value, <c>0</c> included) keeps its own choice. Starting the tool without the uploader
/// also saves about 20 ms (docs/benchmarks/generation.md). On Windows, ONNX Runtime's events go through the system's
/// own event tracing and are left as they are.
/// </remarks>
public static class OnnxRuntimeTelemetry
{
    /// <summary>The environment variable ONNX Runtime reads: <c>1</c> turns its telemetry off.</summary>
    public const string EnvironmentVariable = OnnxRuntimeTelemetrySwitch.EnvironmentVariable;

    private static int _state;

    /// <summary>
    /// Turns ONNX Runtime's telemetry off for this process unless <see cref="EnvironmentVariable"/> is set already.
    /// Idempotent. Returns whether telemetry is off by Infera's doing (<see langword="false"/> when the process set the
    /// variable itself, on Windows, or when the C library cannot be called).
    /// </summary>
    public static bool TurnOffUnlessSet()
    {
        if (Volatile.Read(ref _state) == 0)
        {
            Interlocked.CompareExchange(ref _state, OnnxRuntimeTelemetrySwitch.TurnOffUnlessSet() ? 1 : 2, 0);
        }

        return Volatile.Read(ref _state) == 1;
    }
}
