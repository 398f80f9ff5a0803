using Infera;
using Infera.Models;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the model library and chat clients for library models in an <see cref="IServiceCollection"/>.</summary>
public static class ModelLibraryServiceCollectionExtensions
{
    /// <summary>Registers a singleton <see cref="ModelLibrary"/> (if none is registered yet).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures the library options, or <see langword="null"/> for <c>INFERA_HOME</c> and the Hub settings of the environment.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddModelLibrary(this IServiceCollection services, Action<ModelLibraryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(_ =>
        {
            var options = new ModelLibraryOptions();
            configure?.Invoke(options);
            return new ModelLibrary(options);
        });
        return services;
    }

    /// <summary>Registers a singleton <see cref="IChatClient"/> (and its <see cref="IModelRunner"/>) for a library model or model folder, with its Modelfile defaults applied.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="nameOrPath">A library name (<c>name:tag</c>, <c>org/name</c>) or an ONNX Runtime GenAI folder.</param>
    /// <param name="configure">Configures the runner and chat client options, or <see langword="null"/>.</param>
    /// <param name="allowPull">Whether a Hub id not in the library is pulled on first use. The default is <see langword="false"/>.</param>
    /// <returns>A <see cref="ChatClientBuilder"/> to add middleware.</returns>
    /// <remarks>The model resolves (and, when allowed, downloads) and loads when the chat client is first resolved. Registers a <see cref="ModelLibrary"/> if none is.</remarks>
    public static ChatClientBuilder AddInferaChatClientFromLibrary(this IServiceCollection services, string nameOrPath, Action<InferaModelOptions>? configure = null, bool allowPull = false)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        services.AddModelLibrary();
        var options = new InferaModelOptions { ModelPath = nameOrPath };
        configure?.Invoke(options);
        services.TryAddSingleton(sp => Resolve(sp, nameOrPath, allowPull));
        services.AddSingleton<IModelRunner>(sp => Load(sp.GetRequiredService<ResolvedModel>(), options));
        return services.AddChatClient(sp => new ModelDefaultsChatClient(new InferaChatClient(sp.GetRequiredService<IModelRunner>(), options.ChatClient), sp.GetRequiredService<ResolvedModel>()));
    }

    /// <summary>Registers a keyed singleton <see cref="IChatClient"/> (and its keyed <see cref="IModelRunner"/>) for a library model or model folder, with its Modelfile defaults applied.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceKey">The key of the chat client and runner.</param>
    /// <param name="nameOrPath">A library name or an ONNX Runtime GenAI folder.</param>
    /// <param name="configure">Configures the runner and chat client options, or <see langword="null"/>.</param>
    /// <param name="allowPull">Whether a Hub id not in the library is pulled on first use. The default is <see langword="false"/>.</param>
    /// <returns>A <see cref="ChatClientBuilder"/> to add middleware.</returns>
    public static ChatClientBuilder AddKeyedInferaChatClientFromLibrary(this IServiceCollection services, object? serviceKey, string nameOrPath, Action<InferaModelOptions>? configure = null, bool allowPull = false)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        services.AddModelLibrary();
        var options = new InferaModelOptions { ModelPath = nameOrPath };
        configure?.Invoke(options);
        services.AddKeyedSingleton(serviceKey, (sp, _) => Resolve(sp, nameOrPath, allowPull));
        services.AddKeyedSingleton<IModelRunner>(serviceKey, (sp, key) => Load(sp.GetRequiredKeyedService<ResolvedModel>(key), options));
        return services.AddKeyedChatClient(serviceKey, sp => new ModelDefaultsChatClient(new InferaChatClient(sp.GetRequiredKeyedService<IModelRunner>(serviceKey), options.ChatClient), sp.GetRequiredKeyedService<ResolvedModel>(serviceKey)));
    }

    // DI factories are synchronous; resolving and loading block the resolving thread once, on first use.
    private static ResolvedModel Resolve(IServiceProvider services, string nameOrPath, bool allowPull) =>
        services.GetRequiredService<ModelLibrary>().ResolveAsync(nameOrPath, new ModelResolveOptions { AllowPull = allowPull }).GetAwaiter().GetResult();

    private static OnnxModelRunner Load(ResolvedModel model, InferaModelOptions options) =>
        OnnxModelRunner.LoadAsync(model.ModelDirectory, model.ApplyTo(options.Runner)).GetAwaiter().GetResult();
}
