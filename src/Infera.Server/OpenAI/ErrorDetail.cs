using System.Text.Json.Serialization;

namespace Infera.Server;

/// <summary>The <c>error</c> object: <c>param</c> and <c>code</c> are written as null when they do not apply.</summary>
internal sealed class ErrorDetail
{
    public required string Message { get; init; }

    public required string Type { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Param { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Code { get; init; }
}
