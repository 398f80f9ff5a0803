using System.Text.Json;
using Infera.Remote;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Infera.Router;

/// <summary>
/// The first step of the router's YARP pipeline, around load balancing, passive health and forwarding: checks the key,
/// reads the request (model, stream, affinity key), narrows the destinations to the healthy backends that serve the
/// model (404 when none does), and forwards; an attempt that fails before the response starts (no connection, the
/// backend gone before its headers, or 429/502/503/504) is tried again on another backend. A stream that a backend
/// breaks off after it started ends with one error event instead of a cut connection.
/// </summary>
internal sealed partial class RouterRequestMiddleware(
    RequestDelegate next,
    InferaRouterOptions options,
    BackendCatalog catalog,
    RouterMetrics metrics,
    ILogger<RouterRequestMiddleware> logger)
{
    public const string AffinityKeyItem = "Infera.Router.AffinityKey";
    public const string CanRetryItem = "Infera.Router.CanRetry";
    public const string RetryStatusItem = "Infera.Router.RetryStatus";

    private static readonly string[] ModelPaths =
    [
        "/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses",
        "/api/chat", "/api/generate", "/api/embed", "/api/embeddings", "/api/show",
    ];

    public async Task InvokeAsync(HttpContext http)
    {
        if (RouterResponses.NeedsKey(http) && !await RouterResponses.CheckKeyAsync(http, options).ConfigureAwait(false))
        {
            return;
        }

        var request = await InspectAsync(http).ConfigureAwait(false);
        if (request is null)
        {
            return;
        }

        var feature = http.GetReverseProxyFeature();
        IReadOnlyList<DestinationState> candidates = feature.AvailableDestinations;
        if (request.Model is { } model && ModelPaths.Any(p => http.Request.Path.Equals(p, StringComparison.OrdinalIgnoreCase)))
        {
            candidates = await ServingAsync(http, model, candidates).ConfigureAwait(false);
            if (candidates.Count == 0)
            {
                return;
            }
        }

        http.Items[AffinityKeyItem] = request.AffinityKey;
        http.Response.OnStarting(() =>
        {
            if (!http.Response.Headers.ContainsKey(RouterResponses.BackendHeader))
            {
                http.Response.Headers[RouterResponses.BackendHeader] = feature.ProxiedDestination?.DestinationId ?? RouterResponses.RouterItself;
            }

            return Task.CompletedTask;
        });

        // YARP ends a response that breaks off after it started by aborting the connection; for a stream the router
        // writes one error event instead, so the abort is held back and decided below.
        DeferredAbort? deferred = null;
        if (request.Stream && http.Features.Get<IHttpRequestLifetimeFeature>() is { } lifetime)
        {
            deferred = new DeferredAbort(lifetime);
            http.Features.Set<IHttpRequestLifetimeFeature>(deferred);
            http.Features.Set<IHttpResetFeature>(null);
        }

        var tried = new List<DestinationState>();
        string? lastFailure = null;
        for (int attempt = 1; ; attempt++)
        {
            var remaining = candidates.Where(d => !tried.Contains(d)).ToList();
            bool canRetry = attempt < options.MaxAttempts && remaining.Count > 1;
            http.Items[CanRetryItem] = canRetry;
            feature.AvailableDestinations = remaining;
            if (http.Request.Body.CanSeek)
            {
                http.Request.Body.Position = 0;
            }

            await next(http).ConfigureAwait(false);

            var destination = feature.ProxiedDestination;
            var error = http.Features.Get<IForwarderErrorFeature>();
            bool retryStatus = http.Items.Remove(RetryStatusItem, out var status);
            if (destination is null)
            {
                break;
            }

            string? reason = retryStatus ? $"HTTP {status}"
                : !http.Response.HasStarted && error?.Error is ForwarderError.Request or ForwarderError.RequestTimedOut or ForwarderError.ResponseHeaders or ForwarderError.ResponseBodyDestination
                    ? error!.Error.ToString()
                    : null;
            if (reason is not null)
            {
                lastFailure = $"{destination.DestinationId}: {reason}{(error?.Exception is { } ex ? $" ({ex.GetBaseException().Message})" : string.Empty)}";
            }

            if (reason is not null && (retryStatus || canRetry) && !http.RequestAborted.IsCancellationRequested)
            {
                Log.Retrying(logger, destination.DestinationId, reason);
                metrics.Retried(destination.DestinationId, reason);
                tried.Add(destination);
                http.Response.Clear();
                http.Response.StatusCode = StatusCodes.Status200OK;
                http.Features.Set<IForwarderErrorFeature>(null);
                feature.ProxiedDestination = null;
                continue;
            }

            break;
        }

        await FinishAsync(http, feature, deferred, tried.Count + 1, lastFailure).ConfigureAwait(false);
    }

    private async Task FinishAsync(HttpContext http, IReverseProxyFeature feature, DeferredAbort? deferred, int attempts, string? lastFailure)
    {
        var backend = feature.ProxiedDestination?.DestinationId;
        var error = http.Features.Get<IForwarderErrorFeature>();
        if (deferred is { AbortRequested: true })
        {
            if (error?.Error == ForwarderError.ResponseBodyDestination && http.Response.HasStarted && !http.RequestAborted.IsCancellationRequested)
            {
                var message = $"The backend {backend} failed after the stream started ({error.Exception?.GetBaseException().Message ?? "the connection broke"}); the response is incomplete. Retry the request.";
                Log.StreamBroken(logger, backend ?? "?", error.Exception?.GetBaseException().Message ?? string.Empty);
                metrics.StreamBroken(backend ?? RouterResponses.RouterItself);
                try
                {
                    await http.Response.Body.WriteAsync(RouterResponses.StreamErrorEvent(RouterResponses.IsOllama(http), message), http.RequestAborted).ConfigureAwait(false);
                    await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
                {
                    deferred.AbortNow();
                }
            }
            else
            {
                deferred.AbortNow();
            }
        }
        else if (error is not null && !http.Response.HasStarted && !http.RequestAborted.IsCancellationRequested)
        {
            int status = http.Response.StatusCode is >= 400 ? http.Response.StatusCode : StatusCodes.Status502BadGateway;
            var message = error.Error == ForwarderError.NoAvailableDestinations
                ? "No backend is available: every backend failed its health checks."
                : $"The request failed on {attempts} backend{(attempts == 1 ? string.Empty : "s")} before any answer ({lastFailure ?? error.Error.ToString()}).";
            await RouterResponses.WriteErrorAsync(http, status, message, "server_error", null, "backend_unavailable").ConfigureAwait(false);
        }

        metrics.Answered(backend ?? RouterResponses.RouterItself, http.Response.StatusCode);
    }

    // The healthy backends that serve the model; writes 404 (no backend serves it) or 503 (none that does is healthy) and returns none otherwise.
    private async Task<IReadOnlyList<DestinationState>> ServingAsync(HttpContext http, string model, IReadOnlyList<DestinationState> available)
    {
        await catalog.FirstReadAsync(http.RequestAborted).ConfigureAwait(false);
        for (int pass = 0; pass < 2; pass++)
        {
            // Ollama's paths go only to backends that speak Ollama's API (they answer /api/tags).
            bool ollamaPath = RouterResponses.IsOllama(http);
            var serving = catalog.Backends
                .Where(b => b.Value.Known && (!ollamaPath || b.Value.OllamaEntries is not null) && BackendCatalog.Serves(b.Value, model))
                .Select(b => b.Key)
                .ToHashSet(StringComparer.OrdinalIgnoreCase);
            if (serving.Count > 0)
            {
                var healthy = available.Where(d => serving.Contains(d.DestinationId)).ToList();
                if (healthy.Count > 0)
                {
                    return healthy;
                }

                await RouterResponses.WriteErrorAsync(http, StatusCodes.Status503ServiceUnavailable, $"No healthy backend serves the model '{model}' now; retry later.", "server_error", "model", "backend_unavailable").ConfigureAwait(false);
                return [];
            }

            if (pass == 0)
            {
                // A backend may have gained the model (pulled, or started) since the lists were read.
                await catalog.RefreshSoonAsync(http.RequestAborted).ConfigureAwait(false);
            }
        }

        var ollama = RouterResponses.IsOllama(http);
        await RouterResponses.WriteErrorAsync(
            http,
            StatusCodes.Status404NotFound,
            ollama ? $"model '{model}' not found" : $"The model '{model}' does not exist or no backend serves it; see GET /v1/models.",
            "invalid_request_error",
            "model",
            "model_not_found").ConfigureAwait(false);
        return [];
    }

    // Reads a JSON body (kept for retries) for the model, stream and affinity key; null when an error was written.
    private async Task<InspectedRequest?> InspectAsync(HttpContext http)
    {
        var inspected = new InspectedRequest();
        if (!HttpMethods.IsPost(http.Request.Method) || http.Request.ContentLength == 0)
        {
            return inspected;
        }

        if (http.Request.ContentLength > options.MaxRequestBodySize)
        {
            await TooLargeAsync(http).ConfigureAwait(false);
            return null;
        }

        http.Request.EnableBuffering(bufferThreshold: 1024 * 1024, bufferLimit: options.MaxRequestBodySize);
        try
        {
            using var document = await JsonDocument.ParseAsync(http.Request.Body, default, http.RequestAborted).ConfigureAwait(false);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String && model.GetString() is { Length: > 0 } name)
                {
                    inspected.Model = name;
                }

                bool ollama = RouterResponses.IsOllama(http);
                inspected.Stream = root.TryGetProperty("stream", out var stream)
                    ? stream.ValueKind == JsonValueKind.True
                    : ollama && (http.Request.Path.Equals("/api/chat", StringComparison.OrdinalIgnoreCase) || http.Request.Path.Equals("/api/generate", StringComparison.OrdinalIgnoreCase));
                inspected.AffinityKey = AffinityKey(root);
            }
        }
        catch (JsonException)
        {
            // Not JSON: the backend answers it (with its own 400).
        }
        catch (IOException) when (!http.RequestAborted.IsCancellationRequested)
        {
            await TooLargeAsync(http).ConfigureAwait(false);
            return null;
        }

        http.Request.Body.Position = 0;
        return inspected;
    }

    private Task TooLargeAsync(HttpContext http) =>
        RouterResponses.WriteErrorAsync(http, StatusCodes.Status413PayloadTooLarge, $"The request body is larger than the router accepts ({options.MaxRequestBodySize} bytes).", "invalid_request_error", null, "request_too_large");

    private ulong? AffinityKey(JsonElement root)
    {
        if (root.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            return PromptAffinity.OfMessages(messages.EnumerateArray().Where(m => m.ValueKind == JsonValueKind.Object).Select(m => (Text(m, "role") ?? string.Empty, Content(m))), options.AffinityPrefixChars);
        }

        if (root.TryGetProperty("prompt", out var prompt))
        {
            var text = prompt.ValueKind switch
            {
                JsonValueKind.String => prompt.GetString(),
                JsonValueKind.Array when prompt.GetArrayLength() > 0 && prompt[0].ValueKind == JsonValueKind.String => prompt[0].GetString(),
                _ => null,
            };
            var system = Text(root, "system");
            return PromptAffinity.OfPrompt(system is null ? text : system + "\n" + text, options.AffinityPrefixChars);
        }

        return null;
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    // A message's text: a string, or the text parts of an array of content parts.
    private static string? Content(JsonElement message)
    {
        if (!message.TryGetProperty("content", out var content))
        {
            return null;
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString();
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        return string.Concat(content.EnumerateArray().Select(part => part.ValueKind == JsonValueKind.Object ? Text(part, "text") : null));
    }

    private sealed class InspectedRequest
    {
        public string? Model { get; set; }

        public bool Stream { get; set; }

        public ulong? AffinityKey { get; set; }
    }

    private sealed class DeferredAbort(IHttpRequestLifetimeFeature inner) : IHttpRequestLifetimeFeature
    {
        public bool AbortRequested { get; private set; }

        public CancellationToken RequestAborted
        {
            get => inner.RequestAborted;
            set => inner.RequestAborted = value;
        }

        public void Abort() => AbortRequested = true;

        public void AbortNow() => inner.Abort();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Backend {Backend} failed before answering ({Reason}); trying another.")]
        public static partial void Retrying(ILogger logger, string backend, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Backend {Backend} broke off a stream after it started ({Reason}); the client gets an error event.")]
        public static partial void StreamBroken(ILogger logger, string backend, string reason);
    }
}
