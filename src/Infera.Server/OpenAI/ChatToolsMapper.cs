using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Infera.Server;

/// <summary>
/// Structured output and tool calling on <c>/v1/chat/completions</c>: reads <c>response_format</c>, <c>tools</c>,
/// <c>tool_choice</c>, <c>parallel_tool_calls</c>, assistant <c>tool_calls</c> and <c>tool</c> messages into
/// <see cref="ChatOptions"/> and Microsoft.Extensions.AI contents (400 for what is malformed), and writes a reply's
/// <see cref="FunctionCallContent"/>s in OpenAI's <c>tool_calls</c> shapes.
/// </summary>
internal static class ChatToolsMapper
{
    private static readonly JsonElement NoParameters = JsonElement.Parse("""{"type":"object","properties":{}}""");

    /// <summary>Sets the response format, tools, tool mode and parallel calls that the request's extra fields ask for.</summary>
    public static void ApplyTo(ChatOptions options, Dictionary<string, JsonElement> extra)
    {
        if (Present(extra, "response_format", out var format))
        {
            options.ResponseFormat = ResponseFormat(format);
        }

        var tools = Present(extra, "tools", out var toolsElement) ? Tools(toolsElement) : [];
        if (tools.Count > 0)
        {
            options.Tools = [.. tools];
        }

        if (Present(extra, "tool_choice", out var choice))
        {
            options.ToolMode = ToolMode(choice, tools);
        }

        if (Present(extra, "parallel_tool_calls", out var parallel))
        {
            options.AllowMultipleToolCalls = parallel.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw OpenAIErrorException.BadRequest("parallel_tool_calls must be a boolean.", "parallel_tool_calls"),
            };
        }
    }

    /// <summary>Adds the <c>tool_calls</c> of an assistant message as <see cref="FunctionCallContent"/>s.</summary>
    public static void AddToolCalls(ChatMessage target, ChatCompletionRequestMessage message, int index)
    {
        if (message.AdditionalProperties is null
            || !message.AdditionalProperties.TryGetValue("tool_calls", out var calls)
            || calls.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        var param = Param(index, "tool_calls");
        if (calls.ValueKind != JsonValueKind.Array)
        {
            throw OpenAIErrorException.BadRequest("tool_calls must be an array of function calls.", param);
        }

        var contents = new List<AIContent>();
        var j = 0;
        foreach (var call in calls.EnumerateArray())
        {
            var at = string.Create(CultureInfo.InvariantCulture, $"{param}[{j++}]");
            if (call.ValueKind != JsonValueKind.Object)
            {
                throw OpenAIErrorException.BadRequest("A tool call must be an object with id, type and function.", at);
            }

            var id = RequiredString(call, "id", at);
            if (call.TryGetProperty("type", out var type) && type.ValueKind != JsonValueKind.Null && (type.ValueKind != JsonValueKind.String || type.GetString() != "function"))
            {
                throw OpenAIErrorException.BadRequest("Only tool calls of type 'function' are supported.", at + ".type");
            }

            if (!call.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
            {
                throw OpenAIErrorException.BadRequest("A tool call needs a function object with a name and arguments.", at + ".function");
            }

            var name = RequiredString(function, "name", at + ".function");
            contents.Add(new FunctionCallContent(id, name, Arguments(function, at + ".function.arguments")));
        }

        if (contents.Count > 0)
        {
            if (target.Text.Length == 0)
            {
                target.Contents.Clear();
            }

            foreach (var content in contents)
            {
                target.Contents.Add(content);
            }
        }
    }

    /// <summary>Makes a <c>tool</c> message: a <see cref="FunctionResultContent"/> answering a call of an earlier assistant message.</summary>
    public static ChatMessage ToolMessage(ChatCompletionRequestMessage message, string content, int index, IReadOnlyList<ChatMessage> earlier)
    {
        var param = Param(index, "tool_call_id");
        if (message.AdditionalProperties is null
            || !message.AdditionalProperties.TryGetValue("tool_call_id", out var idElement)
            || idElement.ValueKind != JsonValueKind.String
            || idElement.GetString() is not { Length: > 0 } id)
        {
            throw OpenAIErrorException.BadRequest("A message with the role 'tool' needs a tool_call_id: the id of the call it answers.", param);
        }

        if (!earlier.Any(m => m.Contents.Any(c => c is FunctionCallContent call && call.CallId == id)))
        {
            throw OpenAIErrorException.BadRequest($"A message with the role 'tool' must answer a tool call of an earlier assistant message; no call has the id '{id}'.", param);
        }

        return new ChatMessage(ChatRole.Tool, [new FunctionResultContent(id, content)]) { AuthorName = message.Name };
    }

    /// <summary>Gives a tool schema that the constraint compiler rejects the <c>tools</c> parameter, not <c>response_format</c>.</summary>
    public static Exception Refine(Exception exception, ChatCompletionRequest? request) =>
        exception is ConstraintCompilationException
        && request?.AdditionalProperties is { } extra
        && Present(extra, "tools", out _)
        && !Present(extra, "response_format", out _)
            ? OpenAIErrorException.BadRequest(exception.Message, "tools")
            : exception;

    /// <summary>A call of the reply as an entry of <c>message.tool_calls</c>.</summary>
    public static ChatToolCall ToToolCall(FunctionCallContent call) => new()
    {
        Id = call.CallId,
        Function = new ChatToolCallFunction { Name = call.Name, Arguments = ArgumentsJson(call.Arguments) },
    };

    /// <summary>A call of the reply as stream deltas, as OpenAI sends them: id, type and name with empty arguments, then the arguments.</summary>
    public static IEnumerable<ChatToolCallDelta> ToDeltas(FunctionCallContent call, int index)
    {
        yield return new ChatToolCallDelta { Index = index, Id = call.CallId, Type = "function", Function = new ChatToolCallFunction { Name = call.Name, Arguments = string.Empty } };
        yield return new ChatToolCallDelta { Index = index, Function = new ChatToolCallFunction { Arguments = ArgumentsJson(call.Arguments) } };
    }

    private static ChatResponseFormat ResponseFormat(JsonElement format)
    {
        if (format.ValueKind != JsonValueKind.Object || !format.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            throw OpenAIErrorException.BadRequest("response_format must be an object with a type: text, json_object or json_schema.", "response_format");
        }

        return type.GetString() switch
        {
            "text" => ChatResponseFormat.Text,
            "json_object" => ChatResponseFormat.Json,
            "json_schema" => JsonSchemaFormat(format),
            var other => throw OpenAIErrorException.BadRequest($"Invalid value '{other}' for response_format.type: use text, json_object or json_schema.", "response_format.type"),
        };
    }

    private static ChatResponseFormat JsonSchemaFormat(JsonElement format)
    {
        const string Param = "response_format.json_schema";
        if (!format.TryGetProperty("json_schema", out var spec) || spec.ValueKind != JsonValueKind.Object)
        {
            throw OpenAIErrorException.BadRequest("response_format.json_schema must be an object with a name and a schema when the type is json_schema.", Param);
        }

        var name = Name(spec, Param);
        var description = OptionalString(spec, "description", Param);
        if (spec.TryGetProperty("strict", out var strict) && strict.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
        {
            throw OpenAIErrorException.BadRequest("strict must be a boolean.", Param + ".strict");
        }

        if (!spec.TryGetProperty("schema", out var schema) || schema.ValueKind == JsonValueKind.Null)
        {
            return ChatResponseFormat.Json;
        }

        return schema.ValueKind == JsonValueKind.Object
            ? ChatResponseFormat.ForJsonSchema(schema.Clone(), name, description)
            : throw OpenAIErrorException.BadRequest("schema must be a JSON Schema object.", Param + ".schema");
    }

    internal static List<AIFunctionDeclaration> Tools(JsonElement tools)
    {
        if (tools.ValueKind != JsonValueKind.Array)
        {
            throw OpenAIErrorException.BadRequest("tools must be an array of function tools.", "tools");
        }

        var result = new List<AIFunctionDeclaration>();
        var i = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            var at = string.Create(CultureInfo.InvariantCulture, $"tools[{i++}]");
            if (tool.ValueKind != JsonValueKind.Object)
            {
                throw OpenAIErrorException.BadRequest("A tool must be an object: {\"type\":\"function\",\"function\":{\"name\",\"description\",\"parameters\"}}.", at);
            }

            if (!tool.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "function")
            {
                throw OpenAIErrorException.BadRequest("Only tools of type 'function' are supported.", at + ".type");
            }

            if (!tool.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
            {
                throw OpenAIErrorException.BadRequest("A function tool needs a function object with a name.", at + ".function");
            }

            var name = Name(function, at + ".function");
            if (result.Any(t => t.Name == name))
            {
                throw OpenAIErrorException.BadRequest($"Two tools are named '{name}'; tool names must be unique.", at + ".function.name");
            }

            var description = OptionalString(function, "description", at + ".function");
            if (function.TryGetProperty("strict", out var strict) && strict.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
            {
                throw OpenAIErrorException.BadRequest("strict must be a boolean.", at + ".function.strict");
            }

            var parameters = NoParameters;
            if (function.TryGetProperty("parameters", out var given) && given.ValueKind != JsonValueKind.Null)
            {
                parameters = given.ValueKind == JsonValueKind.Object
                    ? given.Clone()
                    : throw OpenAIErrorException.BadRequest("parameters must be a JSON Schema object.", at + ".function.parameters");
            }

            result.Add(AIFunctionFactory.CreateDeclaration(name, description, parameters));
        }

        return result;
    }

    private static ChatToolMode ToolMode(JsonElement choice, List<AIFunctionDeclaration> tools)
    {
        const string Param = "tool_choice";
        if (choice.ValueKind == JsonValueKind.String)
        {
            return choice.GetString() switch
            {
                "none" => ChatToolMode.None,
                "auto" => ChatToolMode.Auto,
                "required" when tools.Count == 0 => throw OpenAIErrorException.BadRequest("tool_choice 'required' needs tools.", Param),
                "required" => ChatToolMode.RequireAny,
                var other => throw OpenAIErrorException.BadRequest($"Invalid value '{other}' for tool_choice: use none, auto, required or {{\"type\":\"function\",\"function\":{{\"name\":...}}}}.", Param),
            };
        }

        if (choice.ValueKind != JsonValueKind.Object
            || !choice.TryGetProperty("type", out var type)
            || type.ValueKind != JsonValueKind.String
            || type.GetString() != "function"
            || !choice.TryGetProperty("function", out var function)
            || function.ValueKind != JsonValueKind.Object)
        {
            throw OpenAIErrorException.BadRequest("tool_choice must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":...}}.", Param);
        }

        var name = RequiredString(function, "name", Param + ".function");
        return tools.Any(t => t.Name == name)
            ? ChatToolMode.RequireSpecific(name)
            : throw OpenAIErrorException.BadRequest(
                tools.Count == 0 ? $"tool_choice names the function '{name}' but the request has no tools." : $"tool_choice names the function '{name}', which is not in tools ({string.Join(", ", tools.Select(t => t.Name))}).",
                Param + ".function.name");
    }

    // The arguments of an assistant's earlier call: a JSON object written as a string (as OpenAI sends them), or the object itself.
    internal static Dictionary<string, object?> Arguments(JsonElement function, string param)
    {
        if (!function.TryGetProperty("arguments", out var arguments) || arguments.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        var value = arguments;
        if (arguments.ValueKind == JsonValueKind.String)
        {
            var text = arguments.GetString()!;
            if (string.IsNullOrWhiteSpace(text))
            {
                return [];
            }

            try
            {
                value = JsonElement.Parse(text);
            }
            catch (JsonException)
            {
                throw OpenAIErrorException.BadRequest("arguments must be a JSON object written as a string; it is not valid JSON.", param);
            }
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw OpenAIErrorException.BadRequest("arguments must be a JSON object written as a string.", param);
        }

        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            result[property.Name] = property.Value.Clone();
        }

        return result;
    }

    // Microsoft.Extensions.AI's serializer options know its content types and write JsonElement values as they are.
    internal static string ArgumentsJson(IDictionary<string, object?>? arguments) =>
        JsonSerializer.Serialize(arguments ?? new Dictionary<string, object?>(), AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IDictionary<string, object?>)));

    // OpenAI's rule for function and schema names: letters, digits, underscores and dashes, at most 64.
    private static string Name(JsonElement owner, string param)
    {
        var name = RequiredString(owner, "name", param);
        return name.Length <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-')
            ? name
            : throw OpenAIErrorException.BadRequest($"Invalid name '{name}': use letters, digits, underscores and dashes, at most 64 characters.", param + ".name");
    }

    private static string RequiredString(JsonElement owner, string property, string param) =>
        owner.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw OpenAIErrorException.BadRequest($"{property} is required and must be a non-empty string.", param + "." + property);

    private static string? OptionalString(JsonElement owner, string property, string param) =>
        !owner.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw OpenAIErrorException.BadRequest($"{property} must be a string.", param + "." + property);

    private static bool Present(Dictionary<string, JsonElement> extra, string name, out JsonElement value) =>
        extra.TryGetValue(name, out value) && value.ValueKind != JsonValueKind.Null;

    private static string Param(int index, string field) => string.Create(CultureInfo.InvariantCulture, $"messages[{index}].{field}");
}
