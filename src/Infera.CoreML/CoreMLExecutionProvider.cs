using System.Runtime.InteropServices;

namespace Infera;

/// <summary>Runs models on Apple silicon through ONNX Runtime's CoreML (or WebGPU) execution provider.</summary>
/// <remarks>
/// ONNX Runtime's osx-arm64 native library includes the CoreML and WebGPU providers. GenAI keeps the KV cache in CPU
/// memory with CoreML. Before a model loads, the provider checks for macOS on arm64 and GenAI's native library.
/// </remarks>
public sealed class CoreMLExecutionProvider : ExecutionProvider
{
    /// <summary>Initializes a new instance of the <see cref="CoreMLExecutionProvider"/> class with default options.</summary>
    public CoreMLExecutionProvider()
        : this(new CoreMLExecutionProviderOptions())
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CoreMLExecutionProvider"/> class.</summary>
    /// <param name="options">The CoreML options.</param>
    public CoreMLExecutionProvider(CoreMLExecutionProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
    }

    /// <summary>Gets the CoreML options.</summary>
    public CoreMLExecutionProviderOptions Options { get; }

    /// <inheritdoc />
    public override string Name => "coreml";

    /// <inheritdoc />
    public override ExecutionProviderAvailability GetAvailability()
    {
        var platform = $"{RuntimeInformation.OSDescription} {RuntimeInformation.ProcessArchitecture}";
        if (!OperatingSystem.IsMacOS() || RuntimeInformation.ProcessArchitecture != Architecture.Arm64)
        {
            return new ExecutionProviderAvailability(Name, false, [$"platform: {platform}"], "CoreML runs on macOS on Apple silicon (osx-arm64) only");
        }

        return NativeRuntimeProbe.CheckGenAIRuntime(Name, "Infera.CoreML");
    }

    /// <inheritdoc />
    protected override void Configure(ExecutionProviderConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        configuration.ClearProviders();
        if (Options.UseWebGpu)
        {
            configuration.AppendProvider("WebGPU");
            return;
        }

        configuration.AppendProvider("CoreML");
        configuration.SetProviderOption("CoreML", "MLComputeUnits", Options.ComputeUnits switch
        {
            CoreMLComputeUnits.CpuOnly => "CPUOnly",
            CoreMLComputeUnits.CpuAndGpu => "CPUAndGPU",
            CoreMLComputeUnits.CpuAndNeuralEngine => "CPUAndNeuralEngine",
            _ => "ALL",
        });
    }
}
