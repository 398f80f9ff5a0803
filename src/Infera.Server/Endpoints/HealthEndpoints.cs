using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Infera.Server;

/// <summary><c>GET /health</c> (the process answers) and <c>GET /health/ready</c> (every model is loaded; 503 until then).</summary>
internal static class HealthEndpoints
{
    public static Task LiveAsync(HttpContext http) =>
        Results.Json(new HealthStatus { Status = "ok" }, OpenAIJsonContext.Default.HealthStatus).ExecuteAsync(http);

    public static Task ReadyAsync(HttpContext http)
    {
        var registry = http.RequestServices.GetRequiredService<InferaModelRegistry>();
        if (registry.Models.FirstOrDefault(m => !m.IsReady) is { } waiting)
        {
            _ = registry.StartLoading(waiting);
            var options = http.RequestServices.GetRequiredService<InferaServerOptions>();
            return InferaRequest.WriteErrorAsync(http, InferaRequest.NotReady(waiting), options.RetryAfter);
        }

        return Results.Json(new HealthStatus { Status = "ready", Models = [.. registry.ModelIds] }, OpenAIJsonContext.Default.HealthStatus).ExecuteAsync(http);
    }
}
