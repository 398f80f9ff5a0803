using Infera.Server;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps Infera's OpenAI-compatible endpoints.</summary>
public static class InferaEndpointRouteBuilderExtensions
{
    /// <summary>Maps OpenAI's <c>POST /v1/chat/completions</c>, <c>POST /v1/completions</c>, <c>GET /v1/models</c>, <c>GET /v1/models/{id}</c>;
    /// Ollama's <c>/api/chat</c>, <c>/api/generate</c>, <c>/api/tags</c>, <c>/api/ps</c>, <c>/api/show</c>, <c>/api/pull</c>, <c>/api/create</c>,
    /// <c>/api/copy</c>, <c>/api/delete</c>, <c>/api/embed</c>, <c>/api/embeddings</c> (all of these need the API key when one is configured) and
    /// <c>/api/version</c>; <c>GET /health</c>, <c>GET /health/ready</c>, <c>GET /metrics</c> (Prometheus text format), and <c>GET /</c> and <c>HEAD /</c>:
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
        group.MapGet("/api/version", OllamaModelEndpoints.VersionAsync);
        group.MapMethods("/api/version", ["HEAD"], OllamaModelEndpoints.VersionAsync);
        group.MapGet("/api/tags", ApiKeyCheck.Require(OllamaModelEndpoints.TagsAsync));
        group.MapMethods("/api/tags", ["HEAD"], ApiKeyCheck.Require(OllamaModelEndpoints.TagsAsync));
        group.MapGet("/api/ps", ApiKeyCheck.Require(OllamaModelEndpoints.PsAsync));
        group.MapPost("/api/show", ApiKeyCheck.Require(OllamaModelEndpoints.ShowAsync));
        group.MapPost("/api/chat", ApiKeyCheck.Require(OllamaGenerationEndpoints.ChatAsync));
        group.MapPost("/api/generate", ApiKeyCheck.Require(OllamaGenerationEndpoints.GenerateAsync));
        group.MapPost("/api/embed", ApiKeyCheck.Require(OllamaModelEndpoints.EmbedAsync));
        group.MapPost("/api/embeddings", ApiKeyCheck.Require(OllamaModelEndpoints.EmbedAsync));
        group.MapPost("/api/pull", ApiKeyCheck.Require(OllamaModelEndpoints.PullAsync));
        group.MapPost("/api/create", ApiKeyCheck.Require(OllamaModelEndpoints.CreateAsync));
        group.MapPost("/api/copy", ApiKeyCheck.Require(OllamaModelEndpoints.CopyAsync));
        group.MapDelete("/api/delete", ApiKeyCheck.Require(OllamaModelEndpoints.DeleteAsync));
        group.MapGet("/health", HealthEndpoints.LiveAsync);
        group.MapGet("/health/ready", HealthEndpoints.ReadyAsync);
        group.MapGet("/metrics", MetricsEndpoint.HandleAsync);
        ChatPageEndpoints.Map(group);
        return group;
    }
}
