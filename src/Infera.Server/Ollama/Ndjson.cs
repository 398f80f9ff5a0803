using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Infera.Server;

/// <summary>Writes <c>application/x-ndjson</c> responses as Ollama streams them: one JSON object per line (the tokens' lines flushed as <see cref="StreamFlusher"/> says).</summary>
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
        Write(response, value, typeInfo);
        await response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes one line without flushing it: <paramref name="stream"/>'s next flush sends it with whatever follows.</summary>
    public static void Write<T>(StreamFlusher stream, T value, JsonTypeInfo<T> typeInfo)
    {
        Write(stream.Response, value, typeInfo);
        stream.Wrote();
    }

    private static void Write<T>(HttpResponse response, T value, JsonTypeInfo<T> typeInfo)
    {
        var writer = response.BodyWriter;
        using (var json = new Utf8JsonWriter(writer))
        {
            JsonSerializer.Serialize(json, value, typeInfo);
        }

        writer.Write("\n"u8);
    }
}
