using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;

namespace Infera.Server;

/// <summary>
/// <c>POST /api/chat</c> and <c>POST /api/generate</c>: NDJSON streaming by default (<c>stream: false</c> for one object), the last
/// object with <c>done: true</c>, <c>done_reason</c> and the durations in nanoseconds. Chat and templated prompts go through the model's
/// <see cref="InferaChatClient"/> (so <c>format</c> and <c>tools</c> use grammar-constrained decoding); <c>raw</c> prompts go to the runner.
/// </summary>
internal static class OllamaGenerationEndpoints
{
    public static async Task ChatAsync(HttpContext http)
    {
        var started = Stopwatch.GetTimestamp();
        using var call = new InferaRequest(http);
        try
        {
            var request = await call.ReadJsonAsync(OllamaJsonContext.Default.OllamaChatRequest).ConfigureAwait(false);
            var keepAlive = OllamaOptions.KeepAlive(request.KeepAlive);
            using var lease = await call.AcquireModelAsync(request.Model, keepAlive).ConfigureAwait(false);
            var model = lease.Model;
            if (request.Messages is not { Count: > 0 })
            {
                // An empty conversation only loads the model (or, with keep_alive 0, unloads it), as Ollama does.
                await RespondLoadAsync(call, lease, keepAlive, request.Stream != false, created => new OllamaChatResponse
                {
                    Model = model.Name,
                    CreatedAt = created,
                    Message = new OllamaMessage { Role = "assistant", Content = string.Empty },
                }, OllamaJsonContext.Default.OllamaChatResponse).ConfigureAwait(false);
                return;
            }

            if (!string.IsNullOrEmpty(request.Template))
            {
                throw OpenAIErrorException.BadRequest("template is not supported on /api/chat: the model's chat template renders the messages. Use /api/generate with template or raw for a prompt of your own.", "template");
            }

            if (request.Logprobs == true || request.TopLogprobs is > 0)
            {
                throw OpenAIErrorException.BadRequest("logprobs is not supported on /api/chat; use /v1/chat/completions with logprobs.", "logprobs");
            }

            var sampling = OllamaOptions.Read(model.Entry, request.Options);
            var messages = OllamaMessages.ToChatMessages(request.Messages, model.Entry?.System);
            var options = sampling.ToChatOptions();
            ApplyFormat(options, request.Format);
            if (request.Tools is { } tools)
            {
                var declarations = ChatToolsMapper.Tools(tools);
                if (declarations.Count > 0)
                {
                    options.Tools = [.. declarations];
                }
            }

            var client = ClientFor(model, sampling, request.Truncate == true);
            var pieces = FromChat(client.GetStreamingResponseAsync(messages, options, call.Stopping));
            await RespondAsync(call, started, lease, request.Stream != false, pieces, (text, calls, created) => new OllamaChatResponse
            {
                Model = model.Name,
                CreatedAt = created,
                Message = new OllamaMessage { Role = "assistant", Content = text, ToolCalls = calls },
            }, OllamaJsonContext.Default.OllamaChatResponse).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await OllamaFailure.FailAsync(call, ex).ConfigureAwait(false);
        }
    }

    public static async Task GenerateAsync(HttpContext http)
    {
        var started = Stopwatch.GetTimestamp();
        using var call = new InferaRequest(http);
        try
        {
            var request = await call.ReadJsonAsync(OllamaJsonContext.Default.OllamaGenerateRequest).ConfigureAwait(false);
            var keepAlive = OllamaOptions.KeepAlive(request.KeepAlive);
            using var lease = await call.AcquireModelAsync(request.Model, keepAlive).ConfigureAwait(false);
            var model = lease.Model;
            if (string.IsNullOrEmpty(request.Prompt))
            {
                await RespondLoadAsync(call, lease, keepAlive, request.Stream != false, created => new OllamaGenerateResponse
                {
                    Model = model.Name,
                    CreatedAt = created,
                    Response = string.Empty,
                }, OllamaJsonContext.Default.OllamaGenerateResponse).ConfigureAwait(false);
                return;
            }

            Refuse(request.Images is { Count: > 0 }, "images", $"model '{model.Name}' cannot read images: it has no vision capability.");
            Refuse(!string.IsNullOrEmpty(request.Suffix), "suffix", $"model '{model.Name}' does not support insert (suffix): it has no fill-in-the-middle template.");
            Refuse(request.Context is { Count: > 0 }, "context", "context (token ids of an earlier reply) is not supported: send the conversation to /api/chat as messages instead.");
            Refuse(request.Logprobs == true || request.TopLogprobs is > 0, "logprobs", "logprobs is not supported on /api/generate; use /v1/completions with logprobs.");

            var sampling = OllamaOptions.Read(model.Entry, request.Options);
            var system = request.System ?? model.Entry?.System;
            var truncate = request.Truncate == true;
            IAsyncEnumerable<OllamaPiece> pieces;
            if (request.Raw == true || !string.IsNullOrEmpty(request.Template))
            {
                // A raw or templated prompt is the model's input as it is.
                var prompt = request.Raw == true ? request.Prompt : OllamaTemplate.Render(request.Template!, system, request.Prompt);
                var generation = sampling.ToGenerationOptions(ContextOverflowPolicy.LimitNewTokens);
                if (request.Format is { ValueKind: not JsonValueKind.Null } format && FormatSchema(format) is { } schema)
                {
                    generation.Constraint = DecodingConstraint.JsonSchema(schema);
                }

                var runner = new OllamaContextRunner(model.Runner!, sampling.NumCtx, truncate);
                pieces = FromRunner(CompletionsEndpoint.GenerateAsync(runner, new GenerationRequest(prompt, generation), new StopSequenceMatcher(sampling.Stop), call.Stopping));
            }
            else
            {
                List<ChatMessage> messages = string.IsNullOrEmpty(system) ? [] : [new ChatMessage(ChatRole.System, system)];
                messages.Add(new ChatMessage(ChatRole.User, request.Prompt));
                var options = sampling.ToChatOptions();
                ApplyFormat(options, request.Format);
                pieces = FromChat(ClientFor(model, sampling, truncate).GetStreamingResponseAsync(messages, options, call.Stopping));
            }

            await RespondAsync(call, started, lease, request.Stream != false, pieces, (text, calls, created) => new OllamaGenerateResponse
            {
                Model = model.Name,
                CreatedAt = created,
                Response = text,
                ToolCalls = calls,
            }, OllamaJsonContext.Default.OllamaGenerateResponse).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await OllamaFailure.FailAsync(call, ex).ConfigureAwait(false);
        }
    }

    /// <summary>Renders a time as Ollama does: RFC 3339 in UTC with fractional seconds.</summary>
    public static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static void Refuse(bool condition, string param, string message)
    {
        if (condition)
        {
            throw OpenAIErrorException.BadRequest(message, param);
        }
    }

    // The model's own client, or one over a view of its runner with this request's context window and truncation.
    private static IChatClient ClientFor(ServedModel model, OllamaOptions sampling, bool truncate) =>
        new InferaChatClient(new OllamaContextRunner(model.Runner!, sampling.NumCtx, truncate));

    private static void ApplyFormat(ChatOptions options, JsonElement? format)
    {
        if (format is { ValueKind: not JsonValueKind.Null } element && FormatSchema(element) is { } schema)
        {
            options.ResponseFormat = schema == AnyObject ? ChatResponseFormat.Json : ChatResponseFormat.ForJsonSchema(JsonElement.Parse(schema));
        }
    }

    private const string AnyObject = """{"type":"object"}""";

    // "json" means any JSON object; an object is a JSON schema; "" means no format.
    private static string? FormatSchema(JsonElement format) => format.ValueKind switch
    {
        JsonValueKind.String when format.GetString() is "" => null,
        JsonValueKind.String when format.GetString() is "json" => AnyObject,
        JsonValueKind.Object => format.GetRawText(),
        _ => throw OpenAIErrorException.BadRequest($"format must be \"json\" or a JSON schema object; it was {format.GetRawText()}.", "format"),
    };

    private static async Task RespondLoadAsync<T>(InferaRequest call, ModelLease lease, TimeSpan? keepAlive, bool stream, Func<string, T> create, JsonTypeInfo<T> typeInfo)
        where T : OllamaStreamResponse
    {
        var unload = keepAlive == TimeSpan.Zero;
        var body = create(Timestamp(DateTimeOffset.UtcNow));
        body.Finish(unload ? "unload" : "load");
        lease.Dispose();
        if (unload)
        {
            await call.Registry.UnloadAsync(lease.Model.Name).ConfigureAwait(false);
        }

        if (stream)
        {
            Ndjson.Start(call.Http);
            await Ndjson.WriteAsync(call.Http.Response, body, typeInfo, call.Stopping).ConfigureAwait(false);
        }
        else
        {
            await Results.Json(body, typeInfo).ExecuteAsync(call.Http).ConfigureAwait(false);
        }
    }

    private static async Task RespondAsync<T>(InferaRequest call, long started, ModelLease lease, bool stream, IAsyncEnumerable<OllamaPiece> pieces, Func<string, List<OllamaToolCall>?, string, T> create, JsonTypeInfo<T> typeInfo)
        where T : OllamaStreamResponse
    {
        var loaded = Stopwatch.GetTimestamp();
        var token = call.Stopping;
        var response = call.Http.Response;
        await using var enumerator = pieces.GetAsyncEnumerator(token);

        // The first piece comes before the headers, so that a full queue or a prompt that does not fit still gets its status code.
        var more = await enumerator.MoveNextAsync().ConfigureAwait(false);
        var first = Stopwatch.GetTimestamp();
        var text = stream ? null : new StringBuilder();
        List<OllamaToolCall>? allCalls = null;
        var callIndex = 0;
        var flusher = new StreamFlusher(response, token);
        OllamaPiece last = default;
        if (stream)
        {
            Ndjson.Start(call.Http);
        }

        while (more)
        {
            last = enumerator.Current;
            var calls = last.Calls is { Count: > 0 } c ? c.Select(f => ToToolCall(f, callIndex++)).ToList() : null;
            if (stream)
            {
                if (last.Text.Length > 0 || calls is not null)
                {
                    Ndjson.Write(flusher, create(last.Text, calls, Timestamp(DateTimeOffset.UtcNow)), typeInfo);
                }

                // Pieces that are already there go out with this line in one flush.
                more = await flusher.MoveNextAsync(enumerator).ConfigureAwait(false);
            }
            else
            {
                text!.Append(last.Text);
                if (calls is not null)
                {
                    (allCalls ??= []).AddRange(calls);
                }

                more = await enumerator.MoveNextAsync().ConfigureAwait(false);
            }
        }

        var end = Stopwatch.GetTimestamp();
        var body = create(stream ? string.Empty : text!.ToString(), stream ? null : allCalls, Timestamp(DateTimeOffset.UtcNow));
        body.Finish(
            last.DoneReason ?? "stop",
            Nanoseconds(Stopwatch.GetElapsedTime(started, end)),
            Nanoseconds(Stopwatch.GetElapsedTime(started, loaded)),
            Math.Max(last.PromptTokens - last.CachedTokens, 0),
            Nanoseconds(Stopwatch.GetElapsedTime(loaded, first)),
            last.EvalTokens,
            Nanoseconds(Stopwatch.GetElapsedTime(first, end)));
        if (stream)
        {
            await Ndjson.WriteAsync(response, body, typeInfo, token).ConfigureAwait(false);
        }
        else
        {
            await Results.Json(body, typeInfo).ExecuteAsync(call.Http).ConfigureAwait(false);
        }
    }

    // Durations are reported in nanoseconds and never as zero (clients divide by them).
    private static long Nanoseconds(TimeSpan time) => Math.Max(time.Ticks * 100, 1);

    private static OllamaToolCall ToToolCall(FunctionCallContent call, int index) => new()
    {
        Id = call.CallId,
        Function = new OllamaToolCallFunction
        {
            Index = index,
            Name = call.Name,
            Arguments = JsonElement.Parse(ChatToolsMapper.ArgumentsJson(call.Arguments)),
        },
    };

    private static async IAsyncEnumerable<OllamaPiece> FromChat(IAsyncEnumerable<ChatResponseUpdate> updates)
    {
        var promptTokens = 0;
        var cachedTokens = 0;
        var evalTokens = 0;
        string? reason = null;
        await foreach (var update in updates.ConfigureAwait(false))
        {
            string? text = null;
            List<FunctionCallContent>? calls = null;
            foreach (var content in update.Contents)
            {
                switch (content)
                {
                    case TextContent { Text.Length: > 0 } t:
                        text = text is null ? t.Text : text + t.Text;
                        break;
                    case FunctionCallContent functionCall:
                        (calls ??= []).Add(functionCall);
                        break;
                    case UsageContent { Details: var details }:
                        promptTokens = (int)(details.InputTokenCount ?? 0);
                        cachedTokens = (int)(details.CachedInputTokenCount ?? 0);
                        evalTokens = (int)(details.OutputTokenCount ?? 0);
                        break;
                }
            }

            if (update.FinishReason is { } finish)
            {
                reason = finish == ChatFinishReason.Length ? "length" : "stop";
            }

            yield return new OllamaPiece(text ?? string.Empty, calls, reason, promptTokens, cachedTokens, evalTokens);
        }
    }

    private static async IAsyncEnumerable<OllamaPiece> FromRunner(IAsyncEnumerable<CompletionsEndpoint.Piece> pieces, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var piece in pieces.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return new OllamaPiece(piece.Text, null, piece.FinishReason, piece.Usage?.PromptTokens ?? 0, piece.Usage?.PromptTokensDetails.CachedTokens ?? 0, piece.Usage?.CompletionTokens ?? 0);
        }
    }

    /// <summary>What one step of generation gave: text, complete tool calls, and (on the last) the finish reason and token counts.</summary>
    private readonly record struct OllamaPiece(string Text, List<FunctionCallContent>? Calls, string? DoneReason, int PromptTokens, int CachedTokens, int EvalTokens);
}
