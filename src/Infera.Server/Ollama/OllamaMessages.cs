using System.Globalization;
using Microsoft.Extensions.AI;

namespace Infera.Server;

/// <summary>Ollama's chat messages as Microsoft.Extensions.AI messages: roles, assistant <c>tool_calls</c> (arguments as objects) and <c>tool</c> results.</summary>
internal static class OllamaMessages
{
    public static List<ChatMessage> ToChatMessages(List<OllamaMessage> messages, string? defaultSystem)
    {
        var result = new List<ChatMessage>(messages.Count + 1);
        var calls = new List<FunctionCallContent>();
        if (!string.IsNullOrEmpty(defaultSystem) && !messages.Any(m => string.Equals(m.Role, "system", StringComparison.OrdinalIgnoreCase)))
        {
            result.Add(new ChatMessage(ChatRole.System, defaultSystem));
        }

        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i] ?? throw OpenAIErrorException.BadRequest("A message must be an object with a role and content.", Param(i, string.Empty));
            if (message.Images is { Count: > 0 })
            {
                throw OpenAIErrorException.BadRequest("images are not supported: this model has no vision capability.", Param(i, "images"));
            }

            var text = message.Content ?? string.Empty;
            switch (message.Role?.ToLowerInvariant())
            {
                case "system":
                    result.Add(new ChatMessage(ChatRole.System, text));
                    break;
                case "user":
                    result.Add(new ChatMessage(ChatRole.User, text));
                    break;
                case "assistant":
                    result.Add(Assistant(message, text, i, calls));
                    break;
                case "tool":
                    result.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(CallIdOf(message, i, calls, result), text)]));
                    break;
                case null:
                    throw OpenAIErrorException.BadRequest("Every message needs a role.", Param(i, "role"));
                default:
                    throw OpenAIErrorException.BadRequest($"'{message.Role}' is not a valid role: use system, user, assistant or tool.", Param(i, "role"));
            }
        }

        return result;
    }

    private static ChatMessage Assistant(OllamaMessage message, string text, int index, List<FunctionCallContent> calls)
    {
        var chat = new ChatMessage(ChatRole.Assistant, text);
        if (message.ToolCalls is not { Count: > 0 } toolCalls)
        {
            return chat;
        }

        if (text.Length == 0)
        {
            chat.Contents.Clear();
        }

        for (var j = 0; j < toolCalls.Count; j++)
        {
            var at = string.Create(CultureInfo.InvariantCulture, $"{Param(index, "tool_calls")}[{j}]");
            var function = toolCalls[j]?.Function ?? throw OpenAIErrorException.BadRequest("A tool call needs a function with a name and arguments.", at + ".function");
            if (string.IsNullOrEmpty(function.Name))
            {
                throw OpenAIErrorException.BadRequest("A tool call needs the function's name.", at + ".function.name");
            }

            var arguments = ChatToolsMapper.Arguments(function.Arguments, at + ".function.arguments");
            var id = toolCalls[j].Id is { Length: > 0 } given ? given : string.Create(CultureInfo.InvariantCulture, $"call_{index}_{j}");
            var call = new FunctionCallContent(id, function.Name, arguments);
            calls.Add(call);
            chat.Contents.Add(call);
        }

        return chat;
    }

    // Ollama's tool messages name the call by tool_call_id, or only by tool_name, or not at all (the latest call then).
    private static string CallIdOf(OllamaMessage message, int index, List<FunctionCallContent> calls, List<ChatMessage> earlier)
    {
        if (message.ToolCallId is { Length: > 0 } id && calls.Any(c => c.CallId == id))
        {
            return id;
        }

        var answered = earlier.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Select(r => r.CallId).ToHashSet(StringComparer.Ordinal);
        var open = calls.Where(c => !answered.Contains(c.CallId)).ToList();
        var match = (message.ToolName is { Length: > 0 } name ? open.FirstOrDefault(c => c.Name == name) : null)
            ?? open.FirstOrDefault()
            ?? calls.LastOrDefault();
        return match?.CallId ?? throw OpenAIErrorException.BadRequest("A message with the role 'tool' must answer a tool call of an earlier assistant message; there is none.", Param(index, "role"));
    }

    private static string Param(int index, string field) => string.Create(CultureInfo.InvariantCulture, $"messages[{index}]{(field.Length > 0 ? "." + field : string.Empty)}");
}
