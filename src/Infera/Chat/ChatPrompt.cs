using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Infera;

/// <summary>Renders a conversation into the prompt text a model expects.</summary>
/// <remarks>
/// <para>
/// With a chat template (<c>tokenizer_config.json</c> <c>chat_template</c>), the messages are rendered by that template
/// and the result is encoded without adding special tokens again (templates write their own BOS).
/// </para>
/// <para>
/// Without one, the documented plain-text fallback applies: a conversation of a single user message (and no
/// instructions or tools) is that message's text, encoded with the model's special tokens, as a base model expects. Any other
/// conversation is rendered one message per line as <c>System: …</c>, <c>User: …</c>, <c>Assistant: …</c>,
/// <c>Tool: …</c>, ending with <c>Assistant:</c> so the model continues as the assistant.
/// </para>
/// <para>
/// Tools. A template that uses <c>tools</c> gets the tools as a JSON array in the OpenAI function format, assistant
/// messages with <c>tool_calls</c> (<c>id</c>, <c>type</c>, <c>function.name</c>, <c>function.arguments</c> as an
/// object) and one <c>tool</c> message per <see cref="FunctionResultContent"/> (<c>tool_call_id</c>, <c>name</c>,
/// <c>content</c>). For a template that does not, and for the plain-text fallback, the tools and the way to call them
/// are described in the system message, calls are written as the model's <see cref="ToolCallFormat"/> writes them, and
/// results become messages <c>Tool result (name, id): …</c> (user messages for a template, whose roles must often
/// alternate, merged with a neighbouring user message).
/// </para>
/// </remarks>
internal static class ChatPrompt
{
    public static (string Text, bool AddSpecialTokens) Render(ITokenizer tokenizer, IEnumerable<ChatMessage> messages, ChatOptions? options) =>
        Render(tokenizer, messages, options, [], ToolCallFormat.Detect(tokenizer.ChatTemplate));

    public static (string Text, bool AddSpecialTokens) Render(ITokenizer tokenizer, IEnumerable<ChatMessage> messages, ChatOptions? options, IReadOnlyList<AIFunctionDeclaration> tools, ToolCallFormat format)
    {
        var list = new List<ChatMessage>();
        if (!string.IsNullOrEmpty(options?.Instructions))
        {
            list.Add(new ChatMessage(ChatRole.System, options.Instructions));
        }

        list.AddRange(messages);
        if (list.Count == 0)
        {
            throw new ArgumentException("The conversation has no messages.", nameof(messages));
        }

        var usesTools = tools.Count > 0 || list.Any(m => m.Contents.Any(c => c is FunctionCallContent or FunctionResultContent));
        if (tokenizer.ChatTemplate is { } template)
        {
            if (!usesTools)
            {
                return (tokenizer.ApplyChatTemplate(ToJson(list), null, addGenerationPrompt: true), false);
            }

            if (template.Contains("tools", StringComparison.Ordinal))
            {
                var toolsJson = tools.Count > 0 ? ToolPrompt.ToolsJson(tools) : null;
                return (tokenizer.ApplyChatTemplate(ToJsonWithTools(list, format), toolsJson, addGenerationPrompt: true), false);
            }

            return (tokenizer.ApplyChatTemplate(ToJson(FallbackMessages(list, tools, format, mergeResultsIntoUser: true)), null, addGenerationPrompt: true), false);
        }

        if (!usesTools && list.Count == 1 && list[0].Role == ChatRole.User)
        {
            return (list[0].Text, true);
        }

        var builder = new StringBuilder();
        foreach (var message in usesTools ? FallbackMessages(list, tools, format, mergeResultsIntoUser: false) : list)
        {
            builder.Append(RoleLabel(message.Role)).Append(": ").Append(message.Text).Append('\n');
        }

        builder.Append("Assistant:");
        return (builder.ToString(), true);
    }

    public static string ToJson(IReadOnlyList<ChatMessage> messages)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartArray();
            foreach (var message in messages)
            {
                writer.WriteStartObject();
                writer.WriteString("role", message.Role.Value);
                writer.WriteString("content", message.Text);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    /// <summary>Writes messages for a template that renders tools: assistant <c>tool_calls</c> and one <c>tool</c> message per result.</summary>
    internal static string ToJsonWithTools(IReadOnlyList<ChatMessage> messages, ToolCallFormat format)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartArray();
            foreach (var message in messages)
            {
                var calls = message.Contents.OfType<FunctionCallContent>().ToArray();
                var results = message.Contents.OfType<FunctionResultContent>().ToArray();
                if (results.Length > 0)
                {
                    foreach (var result in results)
                    {
                        writer.WriteStartObject();
                        writer.WriteString("role", "tool");
                        writer.WriteString("tool_call_id", ToolCallScanner.IdForTemplate(result.CallId, format));
                        if (names.TryGetValue(result.CallId ?? string.Empty, out var name))
                        {
                            writer.WriteString("name", name);
                        }

                        writer.WriteString("content", ToolPrompt.ResultText(result));
                        writer.WriteEndObject();
                    }

                    var text = message.Text;
                    if (text.Length > 0)
                    {
                        writer.WriteStartObject();
                        writer.WriteString("role", message.Role == ChatRole.Tool ? "user" : message.Role.Value);
                        writer.WriteString("content", text);
                        writer.WriteEndObject();
                    }

                    continue;
                }

                writer.WriteStartObject();
                writer.WriteString("role", message.Role.Value);
                writer.WriteString("content", message.Text);
                if (calls.Length > 0)
                {
                    writer.WritePropertyName("tool_calls");
                    writer.WriteStartArray();
                    foreach (var call in calls)
                    {
                        names[call.CallId] = call.Name;
                        writer.WriteStartObject();
                        writer.WriteString("id", ToolCallScanner.IdForTemplate(call.CallId, format));
                        writer.WriteString("type", "function");
                        writer.WritePropertyName("function");
                        writer.WriteStartObject();
                        writer.WriteString("name", call.Name);
                        writer.WritePropertyName("arguments");
                        writer.WriteRawValue(ToolPrompt.ArgumentsJson(call.Arguments));
                        writer.WriteEndObject();
                        writer.WriteEndObject();
                    }

                    writer.WriteEndArray();
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    /// <summary>Rewrites a conversation with tools into plain messages: tool instructions in the system message, calls as text, results as text.</summary>
    internal static List<ChatMessage> FallbackMessages(IReadOnlyList<ChatMessage> messages, IReadOnlyList<AIFunctionDeclaration> tools, ToolCallFormat format, bool mergeResultsIntoUser)
    {
        var result = new List<ChatMessage>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var rest = messages.AsEnumerable();
        if (tools.Count > 0)
        {
            var instructions = ToolPrompt.Instructions(tools, format);
            if (messages[0].Role == ChatRole.System)
            {
                result.Add(new ChatMessage(ChatRole.System, messages[0].Text + "\n\n" + instructions));
                rest = messages.Skip(1);
            }
            else
            {
                result.Add(new ChatMessage(ChatRole.System, instructions));
            }
        }

        foreach (var message in rest)
        {
            var builder = new StringBuilder();
            var role = message.Role;
            var calls = new List<(string, string)>();
            foreach (var content in message.Contents)
            {
                switch (content)
                {
                    case TextContent text:
                        builder.Append(text.Text);
                        break;
                    case FunctionCallContent call:
                        names[call.CallId] = call.Name;
                        calls.Add((call.Name, ToolPrompt.ArgumentsJson(call.Arguments)));
                        break;
                    case FunctionResultContent toolResult:
                        if (builder.Length > 0)
                        {
                            builder.Append('\n');
                        }

                        var name = names.GetValueOrDefault(toolResult.CallId ?? string.Empty, "tool");
                        builder.Append("Tool result (").Append(name).Append(", ").Append(toolResult.CallId).Append("): ").Append(ToolPrompt.ResultText(toolResult));
                        role = mergeResultsIntoUser ? ChatRole.User : ChatRole.Tool;
                        break;
                }
            }

            if (calls.Count > 0)
            {
                if (builder.Length > 0)
                {
                    builder.Append('\n');
                }

                builder.Append(ToolPrompt.FormatCalls(format, calls));
            }

            if (mergeResultsIntoUser && role == ChatRole.Tool)
            {
                role = ChatRole.User;
            }

            if (mergeResultsIntoUser && result.Count > 0 && result[^1].Role == role && role == ChatRole.User)
            {
                result[^1] = new ChatMessage(role, result[^1].Text + "\n" + builder);
            }
            else
            {
                result.Add(new ChatMessage(role, builder.ToString()));
            }
        }

        return result;
    }

    private static string RoleLabel(ChatRole role) =>
        role == ChatRole.System ? "System"
        : role == ChatRole.User ? "User"
        : role == ChatRole.Assistant ? "Assistant"
        : role == ChatRole.Tool ? "Tool"
        : role.Value;
}
