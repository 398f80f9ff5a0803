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
/// instructions) is that message's text, encoded with the model's special tokens, as a base model expects. Any other
/// conversation is rendered one message per line as <c>System: …</c>, <c>User: …</c>, <c>Assistant: …</c>,
/// <c>Tool: …</c>, ending with <c>Assistant:</c> so the model continues as the assistant.
/// </para>
/// </remarks>
internal static class ChatPrompt
{
    public static (string Text, bool AddSpecialTokens) Render(ITokenizer tokenizer, IEnumerable<ChatMessage> messages, ChatOptions? options)
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

        if (tokenizer.ChatTemplate is not null)
        {
            return (tokenizer.ApplyChatTemplate(ToJson(list), null, addGenerationPrompt: true), false);
        }

        if (list.Count == 1 && list[0].Role == ChatRole.User)
        {
            return (list[0].Text, true);
        }

        var builder = new StringBuilder();
        foreach (var message in list)
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

    private static string RoleLabel(ChatRole role) =>
        role == ChatRole.System ? "System"
        : role == ChatRole.User ? "User"
        : role == ChatRole.Assistant ? "Assistant"
        : role == ChatRole.Tool ? "Tool"
        : role.Value;
}
