namespace Infera;

/// <summary>Options for <see cref="CoreMLExecutionProvider"/>.</summary>
public sealed class CoreMLExecutionProviderOptions
{
    /// <summary>Gets or sets which compute units CoreML may use. The default is <see cref="CoreMLComputeUnits.All"/>.</summary>
    public CoreMLComputeUnits ComputeUnits { get; set; } = CoreMLComputeUnits.All;

    /// <summary>Gets or sets a value indicating whether to run on WebGPU (Metal) instead of CoreML. The default is <see langword="false"/>.</summary>
    public bool UseWebGpu { get; set; }
}
