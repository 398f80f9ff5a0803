using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Infera;

/// <summary>Writes tools, tool calls and tool results the way chat templates and the plain-text fallback expect them.</summary>
internal static class ToolPrompt
{
    /// <summary>Writes the tools as a JSON array in the OpenAI function format, which chat templates take as <c>tools</c>.</summary>
    public static string ToolsJson(IReadOnlyList<AIFunctionDeclaration> tools)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartArray();
            foreach (var tool in tools)
            {
                writer.WriteStartObject();
                writer.WriteString("type", "function");
                writer.WritePropertyName("function");
                writer.WriteStartObject();
                writer.WriteString("name", tool.Name);
                if (!string.IsNullOrEmpty(tool.Description))
                {
                    writer.WriteString("description", tool.Description);
                }

                writer.WritePropertyName("parameters");
                tool.JsonSchema.WriteTo(writer);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    /// <summary>The instructions the fallback prompt gives when the chat template cannot render tools.</summary>
    public static string Instructions(IReadOnlyList<AIFunctionDeclaration> tools, ToolCallFormat format)
    {
        // Kept short: small models have small contexts. One line per tool: name, description, parameters schema.
        var builder = new StringBuilder("Tools:\n");
        foreach (var tool in tools)
        {
            builder.Append(JsonSerializer.Serialize(tool.Name, ToolJsonContext.Default.String));
            if (!string.IsNullOrEmpty(tool.Description))
            {
                builder.Append(": ").Append(tool.Description);
            }

            builder.Append(' ').Append(tool.JsonSchema.GetRawText()).Append('\n');
        }

        return builder.Append("To call a tool, reply with only ").Append(FormatCalls(format, [("name", "{arguments}")])).ToString();
    }

    /// <summary>Writes calls as the model writes them in this format.</summary>
    public static string FormatCalls(ToolCallFormat format, IEnumerable<(string Name, string ArgumentsJson)> calls)
    {
        var builder = new StringBuilder();
        builder.Append(format.Marker).Append(format.ListOpen);
        var first = true;
        foreach (var (name, arguments) in calls)
        {
            if (!first)
            {
                builder.Append(format.Separator.Length > 0 ? format.Separator : "\n");
            }

            first = false;
            builder.Append(format.CallOpen)
                .Append("{\"name\": ").Append(JsonSerializer.Serialize(name, ToolJsonContext.Default.String))
                .Append(", \"").Append(format.ArgumentsKey).Append("\": ").Append(arguments).Append('}')
                .Append(format.CallClose);
        }

        builder.Append(format.ListClose);
        return builder.ToString();
    }

    /// <summary>Serializes call arguments as one JSON object.</summary>
    public static string ArgumentsJson(IDictionary<string, object?>? arguments)
    {
        if (arguments is null || arguments.Count == 0)
        {
            return "{}";
        }

        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in arguments)
            {
                writer.WritePropertyName(key);
                WriteValue(writer, value);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    /// <summary>The text of a tool's result, as the next prompt shows it.</summary>
    public static string ResultText(FunctionResultContent result)
    {
        switch (result.Result)
        {
            case null:
                return result.Exception is { } ex ? "Error: " + ex.Message : "null";
            case string text:
                return text;
            case JsonElement element:
                return element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText();
            default:
                using (var stream = new MemoryStream())
                {
                    using (var writer = new Utf8JsonWriter(stream))
                    {
                        WriteValue(writer, result.Result);
                    }

                    return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
                }
        }
    }

    /// <summary>Writes a value with Microsoft.Extensions.AI's serializer options (which know its content types and fall back to reflection where allowed).</summary>
    public static void WriteValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonElement element:
                element.WriteTo(writer);
                break;
            case JsonNode node:
                node.WriteTo(writer);
                break;
            case string text:
                writer.WriteStringValue(text);
                break;
            default:
                JsonSerializer.Serialize(writer, value, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(object)));
                break;
        }
    }
}
