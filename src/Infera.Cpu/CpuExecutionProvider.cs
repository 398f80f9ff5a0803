namespace Infera;

/// <summary>Runs models on the CPU with ONNX Runtime GenAI's native runtime from the <c>Microsoft.ML.OnnxRuntimeGenAI</c> package.</summary>
/// <remarks>The thread count is a runner setting: <see cref="OnnxModelRunnerOptions.IntraOpThreads"/>.</remarks>
public sealed class CpuExecutionProvider : ExecutionProvider
{
    /// <inheritdoc />
    public override string Name => "cpu";

    /// <inheritdoc />
    public override ExecutionProviderAvailability GetAvailability() => NativeRuntimeProbe.CheckGenAIRuntime(Name, "Infera.Cpu");

    /// <inheritdoc />
    protected override void Configure(ExecutionProviderConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        configuration.ClearProviders();
    }
}
