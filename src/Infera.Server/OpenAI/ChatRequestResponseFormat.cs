namespace Infera.Server;

/// <summary><c>response_format</c>: <c>{"type":"text"}</c>, <c>{"type":"json_object"}</c> or <c>{"type":"json_schema","json_schema":{…}}</c>.</summary>
internal sealed class ChatRequestResponseFormat
{
    public string? Type { get; set; }

    public ChatRequestJsonSchema? JsonSchema { get; set; }
}
