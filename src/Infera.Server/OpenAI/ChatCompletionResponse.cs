namespace Infera.Server;

/// <summary>A <c>chat.completion</c> object.</summary>
internal sealed class ChatCompletionResponse
{
    public required string Id { get; init; }

    public string Object { get; init; } = "chat.completion";

    public required long Created { get; init; }

    public required string Model { get; init; }

    public required List<ChatCompletionChoice> Choices { get; init; }

    public CompletionUsage? Usage { get; init; }
}
