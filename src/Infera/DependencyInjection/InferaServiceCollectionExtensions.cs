using Infera;
using Microsoft.Extensions.AI;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Infera chat clients and model runners in an <see cref="IServiceCollection"/>.</summary>
public static class InferaServiceCollectionExtensions
{
    /// <summary>Registers a singleton <see cref="IChatClient"/> (and its <see cref="IModelRunner"/>) for a local model folder.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="modelPath">The ONNX Runtime GenAI model folder.</param>
    /// <param name="configure">Configures the runner and chat client options, or <see langword="null"/>.</param>
    /// <returns>A <see cref="ChatClientBuilder"/> to add middleware (for example <c>UseOpenTelemetry</c>, <c>UseLogging</c>).</returns>
    /// <remarks>The model loads when the chat client is first resolved.</remarks>
    public static ChatClientBuilder AddInferaChatClient(this IServiceCollection services, string modelPath, Action<InferaModelOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        var options = CreateOptions(modelPath, configure);
        services.AddSingleton<IModelRunner>(_ => LoadRunner(options));
        return services.AddChatClient(sp => new InferaChatClient(sp.GetRequiredService<IModelRunner>(), options.ChatClient));
    }

    /// <summary>Registers a keyed singleton <see cref="IChatClient"/> (and its keyed <see cref="IModelRunner"/>) for a local model folder.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceKey">The key of the chat client and runner.</param>
    /// <param name="modelPath">The ONNX Runtime GenAI model folder.</param>
    /// <param name="configure">Configures the runner and chat client options, or <see langword="null"/>.</param>
    /// <returns>A <see cref="ChatClientBuilder"/> to add middleware.</returns>
    public static ChatClientBuilder AddKeyedInferaChatClient(this IServiceCollection services, object? serviceKey, string modelPath, Action<InferaModelOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        var options = CreateOptions(modelPath, configure);
        services.AddKeyedSingleton<IModelRunner>(serviceKey, (_, _) => LoadRunner(options));
        return services.AddKeyedChatClient(serviceKey, sp => new InferaChatClient(sp.GetRequiredKeyedService<IModelRunner>(serviceKey), options.ChatClient));
    }

    private static InferaModelOptions CreateOptions(string modelPath, Action<InferaModelOptions>? configure)
    {
        var options = new InferaModelOptions { ModelPath = modelPath };
        configure?.Invoke(options);
        return options;
    }

    // DI factories are synchronous; loading blocks the resolving thread once, on first use.
    private static OnnxModelRunner LoadRunner(InferaModelOptions options) =>
        OnnxModelRunner.LoadAsync(options.ModelPath, options.Runner).GetAwaiter().GetResult();
}
