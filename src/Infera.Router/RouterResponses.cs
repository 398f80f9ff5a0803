using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Infera.Router;

/// <summary>Answers written by the router itself: OpenAI-shaped errors on <c>/v1</c> (<c>{"error": {"message", "type", "param", "code"}}</c>),
/// Ollama-shaped ones on <c>/api</c> (<c>{"error": "..."}</c>), the stream error event, and the edge key check.</summary>
internal static class RouterResponses
{
    public const string BackendHeader = "X-Infera-Backend";

    /// <summary>The <c>X-Infera-Backend</c> value of answers the router writes without a backend.</summary>
    public const string RouterItself = "router";

    public static bool IsOllama(HttpContext http) => http.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase);

    public static async Task WriteErrorAsync(HttpContext http, int status, string message, string type, string? param, string code)
    {
        var response = http.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        if (status == StatusCodes.Status401Unauthorized)
        {
            response.Headers.WWWAuthenticate = "Bearer";
        }

        if (!response.Headers.ContainsKey(BackendHeader))
        {
            response.Headers[BackendHeader] = RouterItself;
        }

        await response.Body.WriteAsync(ErrorJson(IsOllama(http), message, type, param, code), http.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The error event that ends a stream a backend broke off: an SSE <c>data:</c> event, or one NDJSON line for Ollama's API.</summary>
    public static byte[] StreamErrorEvent(bool ollama, string message)
    {
        var json = ErrorJson(ollama, message, "server_error", null, "backend_failed");
        return ollama
            ? [.. json, (byte)'\n']
            : [.. "data: "u8, .. json, .. "\n\n"u8];
    }

    public static byte[] ErrorJson(bool ollama, string message, string type, string? param, string code)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (ollama)
            {
                json.WriteString("error", message);
            }
            else
            {
                json.WriteStartObject("error");
                json.WriteString("message", message);
                json.WriteString("type", type);
                if (param is null)
                {
                    json.WriteNull("param");
                }
                else
                {
                    json.WriteString("param", param);
                }

                json.WriteString("code", code);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Checks <c>Authorization: Bearer KEY</c> against the router's key in constant time; writes 401 and returns false when it does not match.</summary>
    public static async Task<bool> CheckKeyAsync(HttpContext http, InferaRouterOptions options)
    {
        if (options.ApiKey is not { } key || BearerKey.Matches(http.Request.Headers.Authorization.ToString(), key))
        {
            return true;
        }

        var message = http.Request.Headers.Authorization.Count == 0
            ? "You didn't provide an API key. Send it in the Authorization header as 'Bearer YOUR_KEY'."
            : "Incorrect API key provided.";
        await WriteErrorAsync(http, StatusCodes.Status401Unauthorized, message, "invalid_request_error", null, "invalid_api_key").ConfigureAwait(false);
        return false;
    }

    public static bool NeedsKey(HttpContext http) =>
        http.Request.Path.StartsWithSegments("/v1", StringComparison.OrdinalIgnoreCase) || IsOllama(http);
}
