namespace Infera.Server;

/// <summary>A request failure to answer with OpenAI's error body and an HTTP status.</summary>
internal sealed class OpenAIErrorException(int statusCode, string message, string type = OpenAIErrorException.InvalidRequest, string? param = null, string? code = null)
    : Exception(message)
{
    public const string InvalidRequest = "invalid_request_error";
    public const string ServerError = "server_error";

    public int StatusCode { get; } = statusCode;

    public string Type { get; } = type;

    public string? Param { get; } = param;

    public string? Code { get; } = code;

    public static OpenAIErrorException BadRequest(string message, string? param = null, string? code = null) => new(400, message, InvalidRequest, param, code);

    public ErrorResponse ToResponse() => new() { Error = new ErrorDetail { Message = Message, Type = Type, Param = Param, Code = Code } };
}
