using System.Diagnostics.Metrics;
using Infera.Remote;
using Microsoft.Extensions.AI;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers a <see cref="RemoteChatClient"/> as the app's <see cref="IChatClient"/>.</summary>
public static class RemoteServiceCollectionExtensions
{
    /// <summary>Registers a <see cref="RemoteChatClient"/> over the configured endpoints as the <see cref="IChatClient"/>
    /// (metrics through the app's <see cref="IMeterFactory"/>); add steps to the returned builder (<c>.UseOpenTelemetry()</c>, …).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Adds the endpoints and sets the options.</param>
    /// <returns>The chat client builder.</returns>
    public static ChatClientBuilder AddRemoteChatClient(this IServiceCollection services, Action<RemoteChatClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new RemoteChatClientOptions();
        configure(options);
        options.Validate();
        return services.AddChatClient(sp =>
        {
            options.MeterFactory ??= sp.GetService<IMeterFactory>();
            return new RemoteChatClient(options);
        });
    }
}
