using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Infera;

/// <summary>
/// Builds the Lark grammar (llguidance dialect) that makes a reply a list of calls of known tools, each with arguments
/// that validate against the tool's JSON schema, in the model's <see cref="ToolCallFormat"/>.
/// </summary>
/// <remarks>
/// In <c>Auto</c> mode the reply is either free text that never contains the format's opener, or calls (or, with a JSON
/// response format, a JSON value of that schema, or calls). Arguments are written on one line with <c>", "</c> and
/// <c>": "</c> separators, as the formats' training data writes them; an arguments object (and every object schema in it that
/// lists properties) admits no properties beyond its schema's unless the schema says otherwise.
/// </remarks>
internal static class ToolGrammar
{
    public static string Build(ToolCallFormat format, IReadOnlyList<AIFunctionDeclaration> tools, bool required, bool allowMultiple, JsonNode? autoReplySchema)
    {
        if (tools.Count == 0)
        {
            throw new ArgumentException("At least one tool is needed to build a tool grammar.", nameof(tools));
        }

        var grammar = new StringBuilder();
        grammar.Append("start: ");
        if (required)
        {
            grammar.Append("calls\n");
        }
        else if (autoReplySchema is not null)
        {
            grammar.Append("reply | calls\n");
            grammar.Append("reply: %json ").Append(autoReplySchema.ToJsonString()).Append('\n');
        }
        else
        {
            grammar.Append("TEXT | calls\n");

            // Any text that does not contain the opener: a call is never written as free text.
            var opener = RegexEscape(format.Opener);
            grammar.Append("TEXT: /(.|\\n)*/ & ~/(.|\\n)*").Append(opener).Append("(.|\\n)*/\n");
        }

        var multiple = allowMultiple && format.SupportsParallelCalls;
        grammar.Append("calls: ");
        if (format.Marker.Length > 0 || format.ListOpen.Length > 0)
        {
            grammar.Append(Literal(format.Marker + format.ListOpen)).Append(' ');
        }

        grammar.Append("call");
        if (multiple)
        {
            grammar.Append(" (").Append(Literal(format.Separator)).Append(" call)*");
        }

        if (format.ListClose.Length > 0)
        {
            grammar.Append(' ').Append(Literal(format.ListClose));
        }

        grammar.Append('\n');
        grammar.Append("call: ");
        if (format.CallOpen.Length > 0)
        {
            grammar.Append(Literal(format.CallOpen)).Append(' ');
        }

        grammar.Append('(').AppendJoin(" | ", tools.Select((_, i) => "tool" + i.ToString(CultureInfo.InvariantCulture))).Append(')');
        if (format.CallClose.Length > 0)
        {
            grammar.Append(' ').Append(Literal(format.CallClose));
        }

        grammar.Append('\n');
        for (var i = 0; i < tools.Count; i++)
        {
            var index = i.ToString(CultureInfo.InvariantCulture);
            var head = "{\"name\": \"" + Escape(tools[i].Name) + "\", \"" + format.ArgumentsKey + "\": ";
            grammar.Append("tool").Append(index).Append(": ").Append(Literal(head)).Append(" args").Append(index).Append(" \"}\"\n");
            grammar.Append("args").Append(index).Append(": %json ").Append(ArgumentsSchema(tools[i]).ToJsonString()).Append('\n');
        }

        return grammar.ToString();
    }

    /// <summary>The schema a tool's arguments are decoded with: its own, as an object, on one line, closed to unknown properties unless it says otherwise.</summary>
    public static JsonObject ArgumentsSchema(AIFunctionDeclaration tool)
    {
        var node = JsonNode.Parse(tool.JsonSchema.GetRawText()) as JsonObject ?? [];
        node.Remove("$schema");
        node.Remove("title");
        node.Remove("description");
        node["type"] ??= "object";
        node["additionalProperties"] ??= false;
        ChatConstraintPlan.CloseObjects(node);
        if (!node.ContainsKey("x-guidance"))
        {
            node["x-guidance"] = new JsonObject
            {
                ["whitespace_flexible"] = false,
                ["key_separator"] = ": ",
                ["item_separator"] = ", ",
            };
        }

        return node;
    }

    /// <summary>A Lark string literal.</summary>
    private static string Literal(string text) => "\"" + Escape(text) + "\"";

    /// <summary>Escapes text for a JSON or Lark string: backslash, quote and control characters; everything else as it is.</summary>
    private static string Escape(string text)
    {
        var builder = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            _ = c switch
            {
                '\\' => builder.Append("\\\\"),
                '"' => builder.Append("\\\""),
                '\n' => builder.Append("\\n"),
                '\r' => builder.Append("\\r"),
                '\t' => builder.Append("\\t"),
                < ' ' => builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)),
                _ => builder.Append(c),
            };
        }

        return builder.ToString();
    }

    private static string RegexEscape(string text)
    {
        var builder = new StringBuilder(text.Length * 2);
        foreach (var c in text)
        {
            if ("\\.^$|?*+()[]{}/".Contains(c, StringComparison.Ordinal))
            {
                builder.Append('\\');
            }

            builder.Append(c == '\n' ? "\\n" : c.ToString());
        }

        return builder.ToString();
    }
}
