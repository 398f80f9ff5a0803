using System.Globalization;
using System.Runtime.InteropServices;

namespace Infera;

/// <summary>Runs models on a DirectX 12 GPU on Windows with a DirectML-capable ONNX Runtime GenAI build.</summary>
/// <remarks>Before a model loads, the provider checks for Windows, <c>DirectML.dll</c> and GenAI's native library, and reports what is missing.</remarks>
public sealed class DirectMLExecutionProvider : ExecutionProvider
{
    /// <summary>Initializes a new instance of the <see cref="DirectMLExecutionProvider"/> class with default options (adapter 0).</summary>
    public DirectMLExecutionProvider()
        : this(new DirectMLExecutionProviderOptions())
    {
    }

    /// <summary>Initializes a new instance of the <see cref="DirectMLExecutionProvider"/> class.</summary>
    /// <param name="options">The DirectML options.</param>
    public DirectMLExecutionProvider(DirectMLExecutionProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.DeviceId, nameof(options.DeviceId));
        Options = options;
    }

    /// <summary>Gets the DirectML options.</summary>
    public DirectMLExecutionProviderOptions Options { get; }

    /// <inheritdoc />
    public override string Name => "directml";

    /// <inheritdoc />
    public override ExecutionProviderAvailability GetAvailability()
    {
        if (!OperatingSystem.IsWindows())
        {
            return new ExecutionProviderAvailability(Name, false, [$"operating system: {RuntimeInformation.OSDescription}"], "DirectML runs on Windows only");
        }

        var probed = new List<string>();
        if (NativeRuntimeProbe.FindInSearchFolders("DirectML.dll", probed) is null)
        {
            probed.Add("DirectML.dll on the system path");
            if (!NativeLibrary.TryLoad("DirectML.dll", out var handle))
            {
                return new ExecutionProviderAvailability(Name, false, probed, "DirectML.dll was not found");
            }

            NativeLibrary.Free(handle);
        }

        var runtime = NativeRuntimeProbe.CheckGenAIRuntime(Name, "Infera.DirectML");
        return runtime with { Probed = [.. probed, .. runtime.Probed] };
    }

    /// <inheritdoc />
    protected override void Configure(ExecutionProviderConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        configuration.ClearProviders();
        configuration.AppendProvider("DML");
        configuration.SetProviderOption("DML", "device_id", Options.DeviceId.ToString(CultureInfo.InvariantCulture));
    }
}
