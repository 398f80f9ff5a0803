using System.Globalization;
using System.Runtime.InteropServices;

namespace Infera;

/// <summary>Runs models on an NVIDIA GPU with ONNX Runtime GenAI's CUDA build (<c>Microsoft.ML.OnnxRuntimeGenAI.Cuda</c>).</summary>
/// <remarks>
/// Before a model loads, the provider checks for GenAI's CUDA device library, ONNX Runtime's CUDA provider library
/// and the NVIDIA driver, and reports which of them is missing. It never falls back to the CPU by itself; list a
/// CPU provider in <see cref="OnnxModelRunnerOptions.FallbackExecutionProviders"/> to allow that.
/// </remarks>
public sealed class CudaExecutionProvider : ExecutionProvider
{
    /// <summary>Initializes a new instance of the <see cref="CudaExecutionProvider"/> class with default options (device 0).</summary>
    public CudaExecutionProvider()
        : this(new CudaExecutionProviderOptions())
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CudaExecutionProvider"/> class.</summary>
    /// <param name="options">The CUDA options.</param>
    public CudaExecutionProvider(CudaExecutionProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.DeviceId, nameof(options.DeviceId));
        Options = options;
    }

    /// <summary>Gets the CUDA options.</summary>
    public CudaExecutionProviderOptions Options { get; }

    /// <inheritdoc />
    public override string Name => "cuda";

    /// <inheritdoc />
    public override ExecutionProviderAvailability GetAvailability()
    {
        var probed = new List<string>();
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsWindows())
        {
            return new ExecutionProviderAvailability(Name, false, [RuntimeInformation.OSDescription], "CUDA runs on Linux and Windows only");
        }

        var genAICuda = NativeRuntimeProbe.FindInSearchFolders(NativeRuntimeProbe.LibraryFileName("onnxruntime-genai-cuda"), probed);
        if (genAICuda is null)
        {
            return new ExecutionProviderAvailability(Name, false, probed,
                $"{NativeRuntimeProbe.LibraryFileName("onnxruntime-genai-cuda")} (GenAI's CUDA device interface, shipped by the Microsoft.ML.OnnxRuntimeGenAI.Cuda package) was not found");
        }

        var ortCuda = NativeRuntimeProbe.FindInSearchFolders(NativeRuntimeProbe.LibraryFileName("onnxruntime_providers_cuda"), probed);
        if (ortCuda is null)
        {
            return new ExecutionProviderAvailability(Name, false, probed, "ONNX Runtime's CUDA execution provider library was not found");
        }

        var driver = OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1";
        probed.Add($"NVIDIA driver {driver}");
        if (!NativeLibrary.TryLoad(driver, out var handle))
        {
            return new ExecutionProviderAvailability(Name, false, probed, $"the NVIDIA driver ({driver}) is not installed or no GPU is visible");
        }

        NativeLibrary.Free(handle);
        return new ExecutionProviderAvailability(Name, true, probed, null);
    }

    /// <inheritdoc />
    protected override void Configure(ExecutionProviderConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        configuration.ClearProviders();
        configuration.AppendProvider("cuda");
        configuration.SetProviderOption("cuda", "device_id", Options.DeviceId.ToString(CultureInfo.InvariantCulture));
        if (Options.EnableCudaGraph is bool graph)
        {
            configuration.SetProviderOption("cuda", "enable_cuda_graph", graph ? "1" : "0");
        }

        if (Options.GpuMemoryLimitBytes is long limit)
        {
            configuration.SetProviderOption("cuda", "gpu_mem_limit", limit.ToString(CultureInfo.InvariantCulture));
        }
    }
}
