using System.Text.Json;

namespace Infera.Server;

/// <summary>A function tool: its name, description, JSON Schema of its parameters, and <c>strict</c> (the arguments always validate here, strict or not).</summary>
internal sealed class ChatRequestFunction
{
    public string? Name { get; set; }

    public string? Description { get; set; }

    public JsonElement? Parameters { get; set; }

    public bool? Strict { get; set; }
}
