namespace Infera;

/// <summary>Options for <see cref="CudaExecutionProvider"/>.</summary>
public sealed class CudaExecutionProviderOptions
{
    /// <summary>Gets or sets the CUDA device ordinal to run on. The default is 0.</summary>
    public int DeviceId { get; set; }

    /// <summary>Gets or sets a value indicating whether CUDA graphs capture the decode step. <see langword="null"/> (the default) keeps the model's setting.</summary>
    public bool? EnableCudaGraph { get; set; }

    /// <summary>Gets or sets the most GPU memory ONNX Runtime's CUDA arena may take, in bytes. <see langword="null"/> (the default) keeps ONNX Runtime's default.</summary>
    public long? GpuMemoryLimitBytes { get; set; }
}
