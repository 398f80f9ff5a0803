namespace Infera.Server;

/// <summary>A <c>text_completion</c> object; streamed completions send the same shape once per piece of text.</summary>
internal sealed class CompletionResponse
{
    public required string Id { get; init; }

    public string Object { get; init; } = "text_completion";

    public required long Created { get; init; }

    public required string Model { get; init; }

    public required List<CompletionChoice> Choices { get; init; }

    public CompletionUsage? Usage { get; init; }
}
