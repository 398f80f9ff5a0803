using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Infera.Server;

/// <summary>Writes <c>text/event-stream</c> responses: <c>data: {json}</c> events (the tokens' events flushed as <see cref="StreamFlusher"/> says), and the closing <c>data: [DONE]</c>.</summary>
internal static class ServerSentEvents
{
    public static void Start(HttpContext http)
    {
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }

    public static async ValueTask WriteAsync<T>(HttpResponse response, T value, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        Write(response, value, typeInfo);
        await response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes one event without flushing it: <paramref name="stream"/>'s next flush sends it with whatever follows.</summary>
    public static void Write<T>(StreamFlusher stream, T value, JsonTypeInfo<T> typeInfo)
    {
        Write(stream.Response, value, typeInfo);
        stream.Wrote();
    }

    private static void Write<T>(HttpResponse response, T value, JsonTypeInfo<T> typeInfo)
    {
        var writer = response.BodyWriter;
        writer.Write("data: "u8);
        using (var json = new Utf8JsonWriter(writer))
        {
            JsonSerializer.Serialize(json, value, typeInfo);
        }

        writer.Write("\n\n"u8);
    }

    public static async ValueTask WriteDoneAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        response.BodyWriter.Write("data: [DONE]\n\n"u8);
        await response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
