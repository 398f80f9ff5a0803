using System.Text.Json;

namespace Infera.Server;

/// <summary>The <c>function</c> of an earlier call in a request: its name and its arguments (a JSON object written as a string, as OpenAI sends them, or the object).</summary>
internal sealed class ChatRequestFunctionCall
{
    public string? Name { get; set; }

    public JsonElement? Arguments { get; set; }
}
