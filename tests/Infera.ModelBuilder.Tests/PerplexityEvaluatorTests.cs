using SharedModels = Infera.Tests.TestModels;
using System.Runtime.InteropServices;

namespace Infera.ModelBuilder.Tests;

public sealed class PerplexityEvaluatorTests
{
    [Fact]
    public async Task Evaluate_TurnsOnnxRuntimeTelemetryOff_UnlessTheProcessSetIt()
    {
        // What the process started with (.NET's copy of the environment is not changed by setenv).
        var atStart = Environment.GetEnvironmentVariable("ORT_DISABLE_TELEMETRY");

        var result = await PerplexityEvaluator.EvaluateAsync(SharedModels.Get(SharedModels.Stories260KOnnx), "Once upon a time, there was a little girl.");

        Assert.True(result.Tokens > 2);
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            // ONNX Runtime reads the C library's environment, where the evaluator sets it before its first native call.
            Assert.Equal(atStart ?? "1", Marshal.PtrToStringUTF8(Getenv("ORT_DISABLE_TELEMETRY")));
        }
    }

    [DllImport("libc", EntryPoint = "getenv")]
    private static extern nint Getenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);
}
