using System.Text.Json;
using Infera.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Infera.Router;

/// <summary>What the router answers itself: <c>/health</c>, <c>/metrics</c>, and the model lists merged from the backends.</summary>
internal static class RouterEndpoints
{
    /// <summary><c>GET /health</c>, <c>/health/ready</c>: 200 while at least one backend takes requests, else 503; each backend's state.</summary>
    public static async Task HealthAsync(HttpContext http)
    {
        var catalog = http.RequestServices.GetRequiredService<BackendCatalog>();
        var destinations = RouterMetrics.Destinations(http.RequestServices).ToList();
        bool any = destinations.Any(RouterMetrics.IsHealthy);
        http.Response.StatusCode = any ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        http.Response.ContentType = "application/json";
        http.Response.Headers[RouterResponses.BackendHeader] = RouterResponses.RouterItself;
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", any ? "ok" : "unavailable");
            json.WriteStartArray("backends");
            foreach (var destination in destinations.OrderBy(d => d.DestinationId, StringComparer.Ordinal))
            {
                json.WriteStartObject();
                json.WriteString("url", destination.DestinationId);
                json.WriteBoolean("healthy", RouterMetrics.IsHealthy(destination));
                json.WriteString("active", destination.Health.Active.ToString().ToLowerInvariant());
                json.WriteString("passive", destination.Health.Passive.ToString().ToLowerInvariant());
                json.WriteNumber("outstanding", destination.ConcurrentRequestCount);
                json.WriteStartArray("models");
                if (catalog.Backends.TryGetValue(destination.DestinationId, out var models))
                {
                    foreach (var entry in models.OpenAIEntries)
                    {
                        json.WriteStringValue(entry.GetProperty("id").GetString());
                    }
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        await http.Response.Body.WriteAsync(buffer.ToArray(), http.RequestAborted).ConfigureAwait(false);
    }

    /// <summary><c>GET /metrics</c>: the router's, ASP.NET Core's and HttpClient's instruments in the Prometheus text format.</summary>
    public static async Task MetricsAsync(HttpContext http)
    {
        http.Response.Headers[RouterResponses.BackendHeader] = RouterResponses.RouterItself;
        var exporter = http.RequestServices.GetRequiredService<PrometheusTextExporter>();
        string? text = await exporter.ScrapeAsync(http.RequestAborted).ConfigureAwait(false);
        if (text is null)
        {
            http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            http.Response.ContentType = "text/plain; charset=utf-8";
            await http.Response.WriteAsync("metrics are not collected yet\n", http.RequestAborted).ConfigureAwait(false);
            return;
        }

        http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await http.Response.WriteAsync(text, http.RequestAborted).ConfigureAwait(false);
    }

    /// <summary><c>GET /v1/models</c>: every model of every backend, once (the first backend's entry for a model shared by several).</summary>
    public static Task ModelsAsync(HttpContext http) => MergedAsync(http, ollama: false);

    /// <summary><c>GET /api/tags</c>: Ollama's model list merged from the backends that speak Ollama's API.</summary>
    public static Task TagsAsync(HttpContext http) => MergedAsync(http, ollama: true);

    private static async Task MergedAsync(HttpContext http, bool ollama)
    {
        var options = http.RequestServices.GetRequiredService<InferaRouterOptions>();
        if (!await RouterResponses.CheckKeyAsync(http, options).ConfigureAwait(false))
        {
            return;
        }

        var catalog = http.RequestServices.GetRequiredService<BackendCatalog>();
        await catalog.FirstReadAsync(http.RequestAborted).ConfigureAwait(false);
        var backends = options.Backends.Select(InferaRouterOptions.BackendName)
            .Select(name => catalog.Backends.TryGetValue(name, out var models) ? models : BackendModels.Unknown)
            .ToList();
        if (ollama && backends.All(b => b.OllamaEntries is null))
        {
            await RouterResponses.WriteErrorAsync(http, StatusCodes.Status404NotFound, "no backend serves Ollama's API (/api/tags)", "invalid_request_error", null, "not_found").ConfigureAwait(false);
            return;
        }

        http.Response.ContentType = "application/json";
        http.Response.Headers[RouterResponses.BackendHeader] = RouterResponses.RouterItself;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (!ollama)
            {
                json.WriteString("object", "list");
            }

            json.WriteStartArray(ollama ? "models" : "data");
            foreach (var backend in backends)
            {
                foreach (var entry in (ollama ? backend.OllamaEntries : backend.OpenAIEntries) ?? [])
                {
                    var name = entry.TryGetProperty(ollama ? "name" : "id", out var id) ? id.GetString() : null;
                    if (name is not null && seen.Add(name))
                    {
                        entry.WriteTo(json);
                    }
                }
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        await http.Response.Body.WriteAsync(buffer.ToArray(), http.RequestAborted).ConfigureAwait(false);
    }
}
