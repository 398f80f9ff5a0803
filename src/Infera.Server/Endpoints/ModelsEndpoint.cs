using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Infera.Server;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c>: the pinned models and the catalog's, with what is loaded and until when.</summary>
internal static class ModelsEndpoint
{
    public static async Task ListAsync(HttpContext http)
    {
        var registry = http.RequestServices.GetRequiredService<InferaModelRegistry>();
        var models = await registry.ListAsync(http.RequestAborted).ConfigureAwait(false);
        var list = new ModelList { Data = [.. models.Select(Card)] };
        await Results.Json(list, OpenAIJsonContext.Default.ModelList).ExecuteAsync(http).ConfigureAwait(false);
    }

    public static async Task GetAsync(HttpContext http)
    {
        var registry = http.RequestServices.GetRequiredService<InferaModelRegistry>();
        var id = http.GetRouteValue("id") as string;
        if (id is null || await registry.FindAnyAsync(id, http.RequestAborted).ConfigureAwait(false) is not { } model)
        {
            var options = http.RequestServices.GetRequiredService<InferaServerOptions>();
            await InferaRequest.WriteErrorAsync(http, new OpenAIErrorException(404, $"The model '{id}' does not exist.", OpenAIErrorException.InvalidRequest, "model", "model_not_found"), options.RetryAfter).ConfigureAwait(false);
            return;
        }

        await Results.Json(Card(model), OpenAIJsonContext.Default.ModelCard).ExecuteAsync(http).ConfigureAwait(false);
    }

    private static ModelCard Card(ServedModel model) => new()
    {
        Id = model.Id,
        Created = model.Created,
        Loaded = model.IsReady,
        Pinned = model.Pinned,
        ExpiresAt = model.IsReady && model.ExpiresAt is { } expires ? expires.ToUnixTimeSeconds() : null,
    };
}
