using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Infera.Server;

/// <summary>Writes <c>application/x-ndjson</c> responses as Ollama streams them: one JSON object per line, each flushed at once.</summary>
internal static class Ndjson
{
    public const string ContentType = "application/x-ndjson";

    public static void Start(HttpContext http)
    {
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }

    public static async ValueTask WriteAsync<T>(HttpResponse response, T value, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        var writer = response.BodyWriter;
        using (var json = new Utf8JsonWriter(writer))
        {
            JsonSerializer.Serialize(json, value, typeInfo);
        }

        writer.Write("\n"u8);
        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
