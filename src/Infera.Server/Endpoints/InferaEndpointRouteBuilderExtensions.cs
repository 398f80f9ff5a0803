using Infera.Server;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps Infera's OpenAI-compatible endpoints.</summary>
public static class InferaEndpointRouteBuilderExtensions
{
    /// <summary>Maps <c>POST /v1/chat/completions</c>, <c>POST /v1/completions</c>, <c>GET /v1/models</c>, <c>GET /v1/models/{id}</c>
    /// (these four need the API key when one is configured), <c>GET /health</c>, <c>GET /health/ready</c>, <c>GET /metrics</c> (Prometheus text format), and <c>GET /</c> and <c>HEAD /</c>:
    /// the chat page for browsers (see <see cref="InferaServerOptions.EnableChatPage"/>, its files under <c>/ui/</c>), <c>Infera is running</c> as plain text otherwise.</summary>
    /// <param name="endpoints">The endpoint route builder (for example the <c>WebApplication</c>).</param>
    /// <param name="prefix">A path prefix for every endpoint; the default is none.</param>
    /// <returns>The group of endpoints, to add conventions such as authorization or rate limiting.</returns>
    /// <exception cref="InvalidOperationException"><c>AddInferaServer</c> was not called.</exception>
    public static RouteGroupBuilder MapInferaEndpoints(this IEndpointRouteBuilder endpoints, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(prefix);
        if (endpoints.ServiceProvider.GetService<InferaServerOptions>() is null)
        {
            throw new InvalidOperationException("Call services.AddInferaServer(...) before MapInferaEndpoints().");
        }

        var group = endpoints.MapGroup(prefix);
        group.MapPost("/v1/chat/completions", ApiKeyCheck.Require(ChatCompletionsEndpoint.HandleAsync));
        group.MapPost("/v1/completions", ApiKeyCheck.Require(CompletionsEndpoint.HandleAsync));
        group.MapGet("/v1/models", ApiKeyCheck.Require(ModelsEndpoint.ListAsync));
        group.MapGet("/v1/models/{**id}", ApiKeyCheck.Require(ModelsEndpoint.GetAsync));
        group.MapGet("/health", HealthEndpoints.LiveAsync);
        group.MapGet("/health/ready", HealthEndpoints.ReadyAsync);
        group.MapGet("/metrics", MetricsEndpoint.HandleAsync);
        ChatPageEndpoints.Map(group);
        return group;
    }
}
