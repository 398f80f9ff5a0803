using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera;

/// <summary>The execution-provider settings of a model being loaded, as an <see cref="ExecutionProvider"/> writes them.</summary>
public sealed class ExecutionProviderConfiguration
{
    private readonly Config _config;

    internal ExecutionProviderConfiguration(Config config) => _config = config;

    /// <summary>Removes every provider the model's <c>genai_config.json</c> names, leaving the CPU.</summary>
    public void ClearProviders() => _config.ClearProviders();

    /// <summary>Adds a provider by ONNX Runtime GenAI's name for it (for example <c>cuda</c>, <c>DML</c>, <c>CoreML</c>, <c>WebGPU</c>).</summary>
    /// <param name="provider">The provider's GenAI name.</param>
    public void AppendProvider(string provider)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(provider);
        _config.AppendProvider(provider);
    }

    /// <summary>Sets one option of a provider.</summary>
    /// <param name="provider">The provider's GenAI name.</param>
    /// <param name="option">The option's name.</param>
    /// <param name="value">The option's value.</param>
    public void SetProviderOption(string provider, string option, string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(provider);
        ArgumentException.ThrowIfNullOrWhiteSpace(option);
        ArgumentNullException.ThrowIfNull(value);
        _config.SetProviderOption(provider, option, value);
    }

    /// <summary>Merges a JSON fragment into the model's <c>genai_config.json</c> as loaded (the file is not changed).</summary>
    /// <param name="json">A JSON object shaped like <c>genai_config.json</c>.</param>
    public void Overlay(string json)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(json);
        _config.Overlay(json);
    }
}
