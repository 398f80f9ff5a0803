namespace Infera.Server;

/// <summary>A <c>chat.completion.chunk</c> object: one server-sent event of a streamed chat completion.</summary>
internal sealed class ChatCompletionChunk
{
    public required string Id { get; init; }

    public string Object { get; init; } = "chat.completion.chunk";

    public required long Created { get; init; }

    public required string Model { get; init; }

    public required List<ChatCompletionChunkChoice> Choices { get; init; }

    public CompletionUsage? Usage { get; init; }
}
