namespace Infera.Server;

/// <summary>OpenAI's error body: <c>{"error":{"message","type","param","code"}}</c>.</summary>
internal sealed class ErrorResponse
{
    public required ErrorDetail Error { get; init; }
}
