using System.Text.Json;

namespace Infera.Server;

/// <summary><c>response_format.json_schema</c>: a name, a description, the JSON Schema and <c>strict</c> (the reply always validates here, strict or not).</summary>
internal sealed class ChatRequestJsonSchema
{
    public string? Name { get; set; }

    public string? Description { get; set; }

    public JsonElement? Schema { get; set; }

    public bool? Strict { get; set; }
}
