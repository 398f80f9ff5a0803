namespace Infera;

/// <summary>Which Apple compute units CoreML may use.</summary>
public enum CoreMLComputeUnits
{
    /// <summary>The CPU, GPU and Neural Engine.</summary>
    All,

    /// <summary>The CPU only.</summary>
    CpuOnly,

    /// <summary>The CPU and GPU.</summary>
    CpuAndGpu,

    /// <summary>The CPU and Neural Engine.</summary>
    CpuAndNeuralEngine,
}
