namespace Infera.Server;

/// <summary>A request body that is malformed, has a field of the wrong type, or a value out of range: the client's mistake, answered with 400 in the API's own error shape.</summary>
/// <remarks>Independent of any one API's error body, so that every endpoint family reads bodies through <see cref="RequestJson"/> and shapes the answer itself.</remarks>
internal sealed class RequestValidationException(string message, string? param) : Exception(message)
{
    /// <summary>Gets the field at fault as the client wrote it (<c>messages[0].tool_calls[1].function.name</c>), or <see langword="null"/> for the body as a whole.</summary>
    public string? Param { get; } = param;
}
