using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Infera.Server;

/// <summary>One API request: its limits, its cancellation (client gone or out of time), reading its body and answering its failures.</summary>
internal sealed class InferaRequest : IDisposable
{
    private readonly CancellationTokenSource? _timeout;
    private readonly CancellationTokenSource _stop;
    private readonly ILogger _logger;

    public InferaRequest(HttpContext http)
    {
        Http = http;
        Options = http.RequestServices.GetRequiredService<InferaServerOptions>();
        Registry = http.RequestServices.GetRequiredService<InferaModelRegistry>();
        _logger = http.RequestServices.GetService<ILoggerFactory>()?.CreateLogger("Infera.Server") ?? NullLogger.Instance;
        _timeout = Options.RequestTimeout == Timeout.InfiniteTimeSpan ? null : new CancellationTokenSource(Options.RequestTimeout);
        _stop = _timeout is null
            ? CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted)
            : CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, _timeout.Token);
    }

    public HttpContext Http { get; }

    public InferaServerOptions Options { get; }

    public InferaModelRegistry Registry { get; }

    /// <summary>Gets the token that stops generation: cancelled when the client disconnects or the request runs out of time.</summary>
    public CancellationToken Stopping => _stop.Token;

    /// <summary>Reads and parses the JSON body, enforcing the size limit (413); a malformed body or a wrong field throws <see cref="RequestValidationException"/> (400).</summary>
    public async Task<T> ReadJsonAsync<T>(JsonTypeInfo<T> typeInfo)
        where T : class
    {
        var limit = Options.MaxRequestBodySize;
        if (Http.Request.ContentLength > limit)
        {
            throw TooLarge(limit);
        }

        // Let the server refuse early too (Kestrel's own default is 30 MB).
        if (Http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = limit;
        }

        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        try
        {
            var reader = Http.Request.BodyReader;
            while (true)
            {
                var result = await reader.ReadAsync(Stopping).ConfigureAwait(false);
                foreach (var segment in result.Buffer)
                {
                    if (buffer.WrittenCount + segment.Length > limit)
                    {
                        throw TooLarge(limit);
                    }

                    buffer.Write(segment.Span);
                }

                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(limit);
        }

        if (buffer.WrittenCount == 0)
        {
            throw OpenAIErrorException.BadRequest("The request body is empty; send a JSON object.");
        }

        // Wrong types, values out of range and malformed JSON become RequestValidationException, naming the field.
        return RequestJson.Deserialize(buffer.WrittenSpan, typeInfo);
    }

    /// <summary>Takes a lease on the model a request names, loading it on demand: 400 without one, 404 for an unknown name, 503 while a pinned model loads or when a load failed.</summary>
    public Task<ModelLease> AcquireModelAsync(string? modelId, TimeSpan? keepAlive = null) => Registry.AcquireAsync(modelId, keepAlive, Stopping);

    public static OpenAIErrorException NotReady(ServedModel model) => InferaModelRegistry.NotReady(model);

    /// <summary>Maps a failure to the status and message to answer; <see langword="null"/> for an unexpected one (a 500, logged).</summary>
    public OpenAIErrorException? Classify(Exception exception, Func<string?, string?> jsonName, string inputParam) => exception switch
    {
        OpenAIErrorException e => e,
        RequestValidationException e => OpenAIErrorException.BadRequest(e.Message, e.Param),
        ServedModelNotFoundException e => new OpenAIErrorException(404, e.Message, OpenAIErrorException.InvalidRequest, "model", "model_not_found"),
        OperationCanceledException when _timeout?.IsCancellationRequested == true => TimedOut(),
        RequestQueueFullException => new OpenAIErrorException(429, $"The server is at capacity: the model's request queue is full. Retry after {RetryAfterSeconds} s.", "requests", null, "rate_limit_exceeded"),
        ContextLengthExceededException e => OpenAIErrorException.BadRequest(e.Message, inputParam, "context_length_exceeded"),
        ArgumentException e => OpenAIErrorException.BadRequest(Describe(e, jsonName), jsonName(e.ParamName) ?? inputParam),
        NotSupportedException e => OpenAIErrorException.BadRequest(e.Message),
        FormatException e => OpenAIErrorException.BadRequest(e.Message),
        ConstraintCompilationException e => OpenAIErrorException.BadRequest(e.Message, "response_format"),
        KeyNotFoundException e => new OpenAIErrorException(404, e.Message, OpenAIErrorException.InvalidRequest, "model", "model_not_found"),
        ObjectDisposedException => new OpenAIErrorException(503, "The model is shutting down.", OpenAIErrorException.ServerError, null, "model_not_ready"),
        _ => null,
    };

    /// <summary>Logs an unexpected failure and returns the 500 to answer.</summary>
    public OpenAIErrorException Unexpected(Exception exception)
    {
        ServerLog.RequestFailed(_logger, Http.Request.Path, exception);
        return new OpenAIErrorException(500, "The server had an error while processing your request.", OpenAIErrorException.ServerError);
    }

    /// <summary>Whether the client has gone (nothing to answer); logs it.</summary>
    public bool ClientGone()
    {
        if (Http.RequestAborted.IsCancellationRequested)
        {
            ServerLog.ClientDisconnected(_logger, Http.Request.Path);
            return true;
        }

        return false;
    }

    /// <summary>Answers a failure: an OpenAI error body with its status, or an error event when the stream has started; nothing when the client is gone.</summary>
    public async Task FailAsync(Exception exception, Func<string?, string?> jsonName, string inputParam)
    {
        if (ClientGone())
        {
            return;
        }

        var error = Classify(exception, jsonName, inputParam) ?? Unexpected(exception);

        var response = Http.Response;
        if (response.HasStarted)
        {
            // The status is sent; a stream reports the error as an event, as OpenAI's API does.
            if (response.ContentType?.StartsWith("text/event-stream", StringComparison.Ordinal) == true)
            {
                try
                {
                    await ServerSentEvents.WriteAsync(response, error.ToResponse(), OpenAIJsonContext.Default.ErrorResponse, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
                {
                    // The connection is gone.
                }
            }

            return;
        }

        await WriteErrorAsync(Http, error, Options.RetryAfter).ConfigureAwait(false);
    }

    public static async Task WriteErrorAsync(HttpContext http, OpenAIErrorException error, TimeSpan retryAfter)
    {
        var response = http.Response;
        response.StatusCode = error.StatusCode;
        if (error.StatusCode == StatusCodes.Status429TooManyRequests)
        {
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }
        else if (error.StatusCode == StatusCodes.Status401Unauthorized)
        {
            response.Headers.WWWAuthenticate = "Bearer";
        }

        response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(response.Body, error.ToResponse(), OpenAIJsonContext.Default.ErrorResponse, http.RequestAborted).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _stop.Dispose();
        _timeout?.Dispose();
    }

    private int RetryAfterSeconds => Math.Max(1, (int)Math.Ceiling(Options.RetryAfter.TotalSeconds));

    private OpenAIErrorException TimedOut()
    {
        ServerLog.RequestTimedOut(_logger, Http.Request.Path, Options.RequestTimeout);
        return new OpenAIErrorException(504, $"The request ran out of time ({Options.RequestTimeout.TotalSeconds:0.#} s); ask for fewer tokens or retry later.", OpenAIErrorException.ServerError, null, "timeout");
    }

    private static OpenAIErrorException TooLarge(long limit) =>
        new(413, $"The request body is larger than the server's limit of {limit} bytes.", OpenAIErrorException.InvalidRequest, null, "request_too_large");

    // "Temperature must be between 0 and 2; it was 3. (Parameter 'Temperature')" -> "temperature must be between 0 and 2; it was 3."
    private static string Describe(ArgumentException exception, Func<string?, string?> jsonName)
    {
        var message = exception.Message;
        var cut = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        if (cut >= 0)
        {
            message = message[..cut];
        }

        cut = message.IndexOf('\n', StringComparison.Ordinal);
        if (cut >= 0)
        {
            message = message[..cut].TrimEnd();
        }

        if (exception.ParamName is { Length: > 0 } name && jsonName(name) is { } json && message.StartsWith(name, StringComparison.Ordinal))
        {
            message = json + message[name.Length..];
        }

        return message;
    }
}
