using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Infera.Server;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c>.</summary>
internal static class ModelsEndpoint
{
    public static Task ListAsync(HttpContext http)
    {
        var registry = http.RequestServices.GetRequiredService<InferaModelRegistry>();
        var list = new ModelList { Data = [.. registry.Models.Select(Card)] };
        return Results.Json(list, OpenAIJsonContext.Default.ModelList).ExecuteAsync(http);
    }

    public static Task GetAsync(HttpContext http)
    {
        var registry = http.RequestServices.GetRequiredService<InferaModelRegistry>();
        var id = http.GetRouteValue("id") as string;
        if (registry.Find(id) is not { } model)
        {
            var options = http.RequestServices.GetRequiredService<InferaServerOptions>();
            return InferaRequest.WriteErrorAsync(http, new OpenAIErrorException(404, $"The model '{id}' does not exist.", OpenAIErrorException.InvalidRequest, "model", "model_not_found"), options.RetryAfter);
        }

        return Results.Json(Card(model), OpenAIJsonContext.Default.ModelCard).ExecuteAsync(http);
    }

    private static ModelCard Card(ServedModel model) => new() { Id = model.Id, Created = model.Created };
}
