using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Infera.Server;

/// <summary>Answers failures in Ollama's shape: the HTTP status and <c>{"error": "..."}</c>, or one more <c>{"error": ...}</c> line once a stream has begun.</summary>
internal static class OllamaFailure
{
    public static async Task FailAsync(InferaRequest call, Exception exception, Func<string?, string?>? jsonName = null)
    {
        if (call.ClientGone())
        {
            return;
        }

        jsonName ??= OllamaOptions.JsonName;
        var error = exception switch
        {
            ServedModelNotFoundException e => new OpenAIErrorException(404, $"model '{e.Name}' not found; pull it first (POST /api/pull), or see the models this server has at GET /api/tags"),
            ContextLengthExceededException e => OpenAIErrorException.BadRequest(ContextMessage(e)),
            _ => call.Classify(exception, jsonName, "messages") ?? call.Unexpected(exception),
        };
        var message = error.Param is { } param && !error.Message.Contains(param, StringComparison.Ordinal) ? $"{param}: {error.Message}" : error.Message;
        var body = new OllamaError { Error = message };
        var response = call.Http.Response;
        if (response.HasStarted)
        {
            if (response.ContentType?.StartsWith(Ndjson.ContentType, StringComparison.Ordinal) == true)
            {
                try
                {
                    await Ndjson.WriteAsync(response, body, OllamaJsonContext.Default.OllamaError, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
                {
                    // The connection is gone.
                }
            }

            return;
        }

        response.StatusCode = error.StatusCode;
        if (error.StatusCode == StatusCodes.Status429TooManyRequests)
        {
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(call.Options.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(response.Body, body, OllamaJsonContext.Default.OllamaError, call.Http.RequestAborted).ConfigureAwait(false);
    }

    private static string ContextMessage(ContextLengthExceededException e) => string.Create(
        CultureInfo.InvariantCulture,
        $"the prompt is {e.PromptTokens} tokens and the context window (num_ctx) holds {e.ContextLength}: nothing was generated. Infera does not cut prompts silently: shorten the conversation, raise options.num_ctx up to the model's context length, or send \"truncate\": true to drop tokens from the start of the prompt instead.");
}
