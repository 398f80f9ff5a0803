using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Infera.Server;

/// <summary><c>GET /metrics</c>: every instrument of Infera's and ASP.NET Core's meters in the Prometheus text format.</summary>
internal static class MetricsEndpoint
{
    private const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static async Task HandleAsync(HttpContext http)
    {
        var exporter = http.RequestServices.GetRequiredService<PrometheusTextExporter>();
        string? text = await exporter.ScrapeAsync(http.RequestAborted).ConfigureAwait(false);
        if (text is null)
        {
            http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            http.Response.ContentType = "text/plain; charset=utf-8";
            await http.Response.WriteAsync("metrics are not collected yet\n", http.RequestAborted).ConfigureAwait(false);
            return;
        }

        http.Response.ContentType = ContentType;
        await http.Response.WriteAsync(text, http.RequestAborted).ConfigureAwait(false);
    }
}
