using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Infera.Server;

/// <summary><c>POST /v1/completions</c>: a raw prompt (text or token ids) through the model's <see cref="IModelRunner"/>, stop strings cut with <see cref="StopSequenceMatcher"/>.</summary>
internal static class CompletionsEndpoint
{
    public static async Task HandleAsync(HttpContext http)
    {
        using var call = new InferaRequest(http);
        CompletionRequest? request = null;
        try
        {
            request = await call.ReadJsonAsync(OpenAIJsonContext.CheckedCompletionRequest).ConfigureAwait(false);
            using var lease = await call.AcquireModelAsync(request.Model).ConfigureAwait(false);
            var model = lease.Model;
            ModelDefaults.Apply(model.Entry, request);
            var generation = ToGenerationRequest(request, call.Options);
            var pieces = GenerateAsync(model.Runner!, generation, new StopSequenceMatcher(request.Stop ?? []), call.Stopping);
            var id = "cmpl-" + Guid.NewGuid().ToString("N");
            var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            if (request.Stream == true)
            {
                await StreamAsync(call, id, created, model.Id, pieces, request.StreamOptions?.IncludeUsage == true).ConfigureAwait(false);
            }
            else
            {
                var text = new StringBuilder();
                Piece last = default;
                await foreach (var piece in pieces.ConfigureAwait(false))
                {
                    text.Append(piece.Text);
                    last = piece;
                }

                var response = new CompletionResponse
                {
                    Id = id,
                    Created = created,
                    Model = model.Id,
                    Choices = [new CompletionChoice { Text = text.ToString(), FinishReason = last.FinishReason ?? "stop" }],
                    Usage = last.Usage ?? CompletionUsage.Create(0, 0),
                };
                await Results.Json(response, OpenAIJsonContext.Default.CompletionResponse).ExecuteAsync(http).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            await call.FailAsync(ex, name => JsonName(name), "prompt").ConfigureAwait(false);
        }
    }

    private static async Task StreamAsync(InferaRequest call, string id, long created, string model, IAsyncEnumerable<Piece> pieces, bool includeUsage)
    {
        var response = call.Http.Response;
        var token = call.Stopping;
        await using var enumerator = pieces.GetAsyncEnumerator(token);

        // The first piece comes before the headers, so that a full queue or an invalid option still gets its status code.
        var more = await enumerator.MoveNextAsync().ConfigureAwait(false);
        ServerSentEvents.Start(call.Http);
        var flusher = new StreamFlusher(response, token);
        Piece last = default;
        while (more)
        {
            last = enumerator.Current;
            if (last.Text.Length > 0)
            {
                ServerSentEvents.Write(flusher, Chunk(last.Text, null), OpenAIJsonContext.Default.CompletionResponse);
            }

            // Tokens that are already there go out with this one in one flush.
            more = await flusher.MoveNextAsync(enumerator).ConfigureAwait(false);
        }

        await WriteAsync(Chunk(string.Empty, last.FinishReason ?? "stop")).ConfigureAwait(false);
        if (includeUsage)
        {
            await WriteAsync(new CompletionResponse { Id = id, Created = created, Model = model, Choices = [], Usage = last.Usage ?? CompletionUsage.Create(0, 0) }).ConfigureAwait(false);
        }

        await ServerSentEvents.WriteDoneAsync(response, token).ConfigureAwait(false);

        CompletionResponse Chunk(string text, string? finishReason) => new()
        {
            Id = id,
            Created = created,
            Model = model,
            Choices = [new CompletionChoice { Text = text, FinishReason = finishReason }],
        };

        ValueTask WriteAsync(CompletionResponse chunk) => ServerSentEvents.WriteAsync(response, chunk, OpenAIJsonContext.Default.CompletionResponse, token);
    }

    /// <summary>Generates, cutting the text at the first stop string; the last piece carries the finish reason and usage.</summary>
    internal static async IAsyncEnumerable<Piece> GenerateAsync(IModelRunner runner, GenerationRequest request, StopSequenceMatcher stops, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var promptTokens = 0;
        var cachedTokens = 0;
        var completionTokens = 0;
        GenerationFinishReason? finish = null;
        await foreach (var update in runner.GenerateAsync(request, cancellationToken).ConfigureAwait(false))
        {
            promptTokens = update.PromptTokenCount;
            cachedTokens = update.CachedPromptTokenCount;
            completionTokens = update.Index + 1;
            finish = update.FinishReason;
            var text = stops.Append(update.Text);
            if (stops.IsStopped)
            {
                // Leaving the loop disposes the runner's enumerator, which stops generation at its next step.
                finish = GenerationFinishReason.Stop;
                if (text.Length > 0)
                {
                    yield return new Piece(text, null, null);
                }

                break;
            }

            if (text.Length > 0)
            {
                yield return new Piece(text, null, null);
            }
        }

        yield return new Piece(stops.Flush(), finish == GenerationFinishReason.Length ? "length" : "stop", CompletionUsage.Create(promptTokens, completionTokens, cachedTokens));
    }

    private static GenerationRequest ToGenerationRequest(CompletionRequest request, InferaServerOptions serverOptions)
    {
        if (request.N is { } n && n != 1)
        {
            throw OpenAIErrorException.BadRequest($"n must be 1: this server returns one choice per request (it was {n}). Send separate requests for more choices.", "n");
        }

        if (request.BestOf is { } bestOf && bestOf != 1)
        {
            throw OpenAIErrorException.BadRequest("best_of must be 1: this server generates one completion per request.", "best_of");
        }

        if (request.Echo == true)
        {
            throw OpenAIErrorException.BadRequest("echo is not supported by this server.", "echo");
        }

        if (request.Logprobs is > 0)
        {
            throw OpenAIErrorException.BadRequest("logprobs is not supported by this server.", "logprobs");
        }

        if (!string.IsNullOrEmpty(request.Suffix))
        {
            throw OpenAIErrorException.BadRequest("suffix is not supported by this server.", "suffix");
        }

        if (request.StreamOptions is not null && request.Stream != true)
        {
            throw OpenAIErrorException.BadRequest("stream_options is only allowed when stream is true.", "stream_options");
        }

        var options = new GenerationOptions
        {
            MaxNewTokens = request.MaxTokens ?? serverOptions.DefaultCompletionMaxTokens,
            Temperature = request.Temperature,
            TopP = request.TopP,
            Seed = request.Seed,
            FrequencyPenalty = request.FrequencyPenalty,
            PresencePenalty = request.PresencePenalty,

            // vLLM's extra sampling fields; its -1 (and 0) top-k mean none.
            TopK = request.TopK is > 0 ? request.TopK : null,
            MinP = request.MinP,
            RepetitionPenalty = request.RepetitionPenalty,
            LogitBias = request.LogitBias is { Count: > 0 } bias ? bias : null,
            ContextOverflow = ContextOverflowPolicy.LimitNewTokens,
        };
        options.Validate();

        if (request.Prompt is not { } prompt || prompt.ValueKind == JsonValueKind.Null)
        {
            throw OpenAIErrorException.BadRequest("You must provide a prompt.", "prompt");
        }

        switch (prompt.ValueKind)
        {
            case JsonValueKind.String:
                return new GenerationRequest(prompt.GetString()!, options);
            case JsonValueKind.Array when prompt.GetArrayLength() == 0:
                throw OpenAIErrorException.BadRequest("prompt must not be an empty array.", "prompt");
            case JsonValueKind.Array:
                var first = prompt[0];
                if (first.ValueKind == JsonValueKind.Number)
                {
                    return new GenerationRequest(ReadTokens(prompt), options);
                }

                if (prompt.GetArrayLength() > 1)
                {
                    throw OpenAIErrorException.BadRequest("Send one prompt per request: this server does not batch prompts in one request.", "prompt");
                }

                return first.ValueKind switch
                {
                    JsonValueKind.String => new GenerationRequest(first.GetString()!, options),
                    JsonValueKind.Array => new GenerationRequest(ReadTokens(first), options),
                    _ => throw OpenAIErrorException.BadRequest("prompt must be a string, an array of one string, or an array of token ids.", "prompt"),
                };
            default:
                throw OpenAIErrorException.BadRequest("prompt must be a string, an array of one string, or an array of token ids.", "prompt");
        }
    }

    private static int[] ReadTokens(JsonElement array)
    {
        var tokens = new int[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out tokens[i++]))
            {
                throw OpenAIErrorException.BadRequest("Token ids in prompt must be integers.", "prompt");
            }
        }

        return tokens;
    }

    private static string? JsonName(string? name) => name switch
    {
        null => null,
        "MaxNewTokens" => "max_tokens",
        "request" or "prompt" => "prompt",
        _ => ChatRequestMapper.SnakeCase(name),
    };

    internal readonly record struct Piece(string Text, string? FinishReason, CompletionUsage? Usage);
}
