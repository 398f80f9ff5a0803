namespace Infera;

/// <summary>The provider used when an app names none: ONNX Runtime GenAI's CPU execution, with the model's own provider list cleared.</summary>
internal sealed class DefaultCpuProvider : ExecutionProvider
{
    public static readonly DefaultCpuProvider Instance = new();

    public override string Name => "cpu";

    public override ExecutionProviderAvailability GetAvailability() => NativeRuntimeProbe.CheckGenAIRuntime(Name, "Infera.Cpu");

    protected internal override void Configure(ExecutionProviderConfiguration configuration) => configuration.ClearProviders();
}
