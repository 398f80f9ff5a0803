using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;

namespace Infera.Server;

/// <summary><c>POST /v1/chat/completions</c> through the model's <see cref="InferaChatClient"/>, streaming or not.</summary>
internal static class ChatCompletionsEndpoint
{
    public static async Task HandleAsync(HttpContext http)
    {
        using var call = new InferaRequest(http);
        ChatCompletionRequest? request = null;
        try
        {
            request = await call.ReadJsonAsync(OpenAIJsonContext.CheckedChatCompletionRequest).ConfigureAwait(false);
            using var lease = await call.AcquireModelAsync(request.Model).ConfigureAwait(false);
            var model = lease.Model;
            var messages = ChatRequestMapper.ToMessages(request);
            ModelDefaults.Apply(model.Entry, request, messages);
            var options = ChatRequestMapper.ToOptions(request);
            var updates = model.ChatClient!.GetStreamingResponseAsync(messages, options, call.Stopping);
            var turn = new ChatTurn("chatcmpl-" + Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), model.Id);
            if (request.Stream == true)
            {
                await StreamAsync(call, turn, updates, request.StreamOptions?.IncludeUsage == true).ConfigureAwait(false);
            }
            else
            {
                await RespondAsync(call, turn, updates).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            await call.FailAsync(ChatToolsMapper.Refine(ex, request), name => ChatRequestMapper.JsonName(name, request), "messages").ConfigureAwait(false);
        }
    }

    private static async Task RespondAsync(InferaRequest call, ChatTurn turn, IAsyncEnumerable<ChatResponseUpdate> updates)
    {
        var text = new StringBuilder();
        await foreach (var update in updates.ConfigureAwait(false))
        {
            text.Append(turn.Read(update));
        }

        var response = new ChatCompletionResponse
        {
            Id = turn.Id,
            Created = turn.Created,
            Model = turn.Model,
            Choices = [new ChatCompletionChoice { Message = Message(text.ToString(), turn.Calls), FinishReason = turn.FinishReason }],
            Usage = turn.Usage ?? CompletionUsage.Create(0, 0),
        };
        await Results.Json(response, OpenAIJsonContext.Default.ChatCompletionResponse).ExecuteAsync(call.Http).ConfigureAwait(false);
    }

    // With tool calls, content is null unless the model also wrote text, as in OpenAI's responses.
    private static ChatCompletionResponseMessage Message(string text, List<FunctionCallContent> calls) => calls.Count == 0
        ? new ChatCompletionResponseMessage { Content = text }
        : new ChatCompletionResponseMessage { Content = text.Length > 0 ? text : null, ToolCalls = calls.ConvertAll(ChatToolsMapper.ToToolCall) };

    private static async Task StreamAsync(InferaRequest call, ChatTurn turn, IAsyncEnumerable<ChatResponseUpdate> updates, bool includeUsage)
    {
        var response = call.Http.Response;
        var token = call.Stopping;
        await using var enumerator = updates.GetAsyncEnumerator(token);

        // Wait for the first update before sending headers, so that a full queue or an invalid option still gets its status code.
        var more = await enumerator.MoveNextAsync().ConfigureAwait(false);
        ServerSentEvents.Start(call.Http);
        await WriteAsync(turn.Chunk(new ChatCompletionDelta { Role = "assistant", Content = string.Empty }, null)).ConfigureAwait(false);
        var sentCalls = 0;
        var flusher = new StreamFlusher(response, token);
        while (more)
        {
            var piece = turn.Read(enumerator.Current);
            if (piece.Length > 0)
            {
                Write(turn.Chunk(new ChatCompletionDelta { Content = piece }, null));
            }

            // Each call arrives complete: its id, type and name first, then its arguments, as OpenAI streams them.
            for (; sentCalls < turn.Calls.Count; sentCalls++)
            {
                foreach (var delta in ChatToolsMapper.ToDeltas(turn.Calls[sentCalls], sentCalls))
                {
                    Write(turn.Chunk(new ChatCompletionDelta { ToolCalls = [delta] }, null));
                }
            }

            // Updates that are already there go out with these events in one flush.
            more = await flusher.MoveNextAsync(enumerator).ConfigureAwait(false);
        }

        await WriteAsync(turn.Chunk(new ChatCompletionDelta(), turn.FinishReason)).ConfigureAwait(false);
        if (includeUsage)
        {
            await WriteAsync(new ChatCompletionChunk { Id = turn.Id, Created = turn.Created, Model = turn.Model, Choices = [], Usage = turn.Usage ?? CompletionUsage.Create(0, 0) }).ConfigureAwait(false);
        }

        await ServerSentEvents.WriteDoneAsync(response, token).ConfigureAwait(false);

        ValueTask WriteAsync(ChatCompletionChunk chunk) => ServerSentEvents.WriteAsync(response, chunk, OpenAIJsonContext.Default.ChatCompletionChunk, token);

        void Write(ChatCompletionChunk chunk) => ServerSentEvents.Write(flusher, chunk, OpenAIJsonContext.Default.ChatCompletionChunk);
    }

    /// <summary>What one chat turn has produced so far: its finish reason and usage, read from the updates' contents.</summary>
    private sealed class ChatTurn(string id, long created, string model)
    {
        public string Id { get; } = id;

        public long Created { get; } = created;

        public string Model { get; } = model;

        public string FinishReason { get; private set; } = "stop";

        public CompletionUsage? Usage { get; private set; }

        /// <summary>Gets the tool calls read so far, in order.</summary>
        public List<FunctionCallContent> Calls { get; } = [];

        /// <summary>Returns the update's text and records its finish reason and usage.</summary>
        public string Read(ChatResponseUpdate update)
        {
            string? text = null;
            StringBuilder? many = null;
            foreach (var content in update.Contents)
            {
                switch (content)
                {
                    case TextContent { Text.Length: > 0 } t when text is null:
                        text = t.Text;
                        break;
                    case TextContent { Text.Length: > 0 } t:
                        (many ??= new StringBuilder(text)).Append(t.Text);
                        break;
                    case FunctionCallContent functionCall:
                        Calls.Add(functionCall);
                        break;
                    case UsageContent { Details: var details }:
                        Usage = CompletionUsage.Create((int)(details.InputTokenCount ?? 0), (int)(details.OutputTokenCount ?? 0), (int)(details.CachedInputTokenCount ?? 0));
                        break;
                }
            }

            if (update.FinishReason is { } finish)
            {
                FinishReason = finish == ChatFinishReason.Length ? "length"
                    : finish == ChatFinishReason.ToolCalls ? "tool_calls"
                    : finish == ChatFinishReason.ContentFilter ? "content_filter"
                    : "stop";
            }

            return many?.ToString() ?? text ?? string.Empty;
        }

        public ChatCompletionChunk Chunk(ChatCompletionDelta delta, string? finishReason) => new()
        {
            Id = Id,
            Created = Created,
            Model = Model,
            Choices = [new ChatCompletionChunkChoice { Delta = delta, FinishReason = finishReason }],
        };
    }
}
