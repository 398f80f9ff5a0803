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
/// <remarks>JSON types are checked when the body is read (<see cref="RequestJson"/>); this class checks values and shapes.</remarks>
internal static class ChatToolsMapper
{
    private static readonly JsonElement NoParameters = JsonElement.Parse("""{"type":"object","properties":{}}""");

    /// <summary>Sets the response format, tools, tool mode and parallel calls that the request asks for.</summary>
    public static void ApplyTo(ChatOptions options, ChatCompletionRequest request)
    {
        if (request.ResponseFormat is { } format)
        {
            options.ResponseFormat = ResponseFormat(format);
        }

        var tools = request.Tools is { } given ? Tools(given) : [];
        if (tools.Count > 0)
        {
            options.Tools = [.. tools];
        }

        if (request.ToolChoice is { ValueKind: not JsonValueKind.Null } choice)
        {
            options.ToolMode = ToolMode(choice, tools);
        }

        if (request.ParallelToolCalls is { } parallel)
        {
            options.AllowMultipleToolCalls = parallel;
        }
    }

    /// <summary>Adds the <c>tool_calls</c> of an assistant message as <see cref="FunctionCallContent"/>s.</summary>
    public static void AddToolCalls(ChatMessage target, ChatCompletionRequestMessage message, int index)
    {
        if (message.ToolCalls is not { } calls)
        {
            return;
        }

        var param = Param(index, "tool_calls");
        var contents = new List<AIContent>();
        for (var j = 0; j < calls.Count; j++)
        {
            var at = string.Create(CultureInfo.InvariantCulture, $"{param}[{j}]");
            var call = calls[j] ?? throw OpenAIErrorException.BadRequest("A tool call must be an object with id, type and function.", at);
            var id = Required(call.Id, "id", at);
            if (call.Type is { } type && type != "function")
            {
                throw OpenAIErrorException.BadRequest($"Only tool calls of type 'function' are supported (it was '{type}').", at + ".type");
            }

            var function = call.Function ?? throw OpenAIErrorException.BadRequest("A tool call needs a function object with a name and arguments.", at + ".function");
            var name = Required(function.Name, "name", at + ".function");
            contents.Add(new FunctionCallContent(id, name, Arguments(function.Arguments, at + ".function.arguments")));
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
        if (message.ToolCallId is not { Length: > 0 } id)
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
        exception is ConstraintCompilationException && request is { Tools.Count: > 0, ResponseFormat: null }
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

    private static Microsoft.Extensions.AI.ChatResponseFormat ResponseFormat(ChatRequestResponseFormat format) => format.Type switch
    {
        "text" => Microsoft.Extensions.AI.ChatResponseFormat.Text,
        "json_object" => Microsoft.Extensions.AI.ChatResponseFormat.Json,
        "json_schema" => JsonSchemaFormat(format.JsonSchema),
        null => throw OpenAIErrorException.BadRequest("response_format needs a type: text, json_object or json_schema.", "response_format.type"),
        var other => throw OpenAIErrorException.BadRequest($"Invalid value '{other}' for response_format.type: use text, json_object or json_schema.", "response_format.type"),
    };

    private static Microsoft.Extensions.AI.ChatResponseFormat JsonSchemaFormat(ChatRequestJsonSchema? spec)
    {
        const string Param = "response_format.json_schema";
        if (spec is null)
        {
            throw OpenAIErrorException.BadRequest("response_format.json_schema must be an object with a name and a schema when the type is json_schema.", Param);
        }

        var name = Name(spec.Name, Param);
        if (spec.Schema is not { ValueKind: not JsonValueKind.Null } schema)
        {
            return Microsoft.Extensions.AI.ChatResponseFormat.Json;
        }

        return schema.ValueKind == JsonValueKind.Object
            ? Microsoft.Extensions.AI.ChatResponseFormat.ForJsonSchema(schema.Clone(), name, spec.Description)
            : throw OpenAIErrorException.BadRequest("schema must be a JSON Schema object.", Param + ".schema");
    }

    internal static List<AIFunctionDeclaration> Tools(List<ChatRequestTool> tools)
    {
        var result = new List<AIFunctionDeclaration>();
        for (var i = 0; i < tools.Count; i++)
        {
            var at = string.Create(CultureInfo.InvariantCulture, $"tools[{i}]");
            var tool = tools[i] ?? throw OpenAIErrorException.BadRequest("A tool must be an object: {\"type\":\"function\",\"function\":{\"name\",\"description\",\"parameters\"}}.", at);
            if (tool.Type != "function")
            {
                throw OpenAIErrorException.BadRequest("Only tools of type 'function' are supported.", at + ".type");
            }

            var function = tool.Function ?? throw OpenAIErrorException.BadRequest("A function tool needs a function object with a name.", at + ".function");
            var name = Name(function.Name, at + ".function");
            if (result.Any(t => t.Name == name))
            {
                throw OpenAIErrorException.BadRequest($"Two tools are named '{name}'; tool names must be unique.", at + ".function.name");
            }

            var parameters = NoParameters;
            if (function.Parameters is { ValueKind: not JsonValueKind.Null } given)
            {
                parameters = given.ValueKind == JsonValueKind.Object
                    ? given.Clone()
                    : throw OpenAIErrorException.BadRequest("parameters must be a JSON Schema object.", at + ".function.parameters");
            }

            result.Add(AIFunctionFactory.CreateDeclaration(name, function.Description, parameters));
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

        const string Shape = "tool_choice must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":...}}.";
        if (choice.ValueKind != JsonValueKind.Object)
        {
            throw OpenAIErrorException.BadRequest(Shape, Param);
        }

        if (!choice.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "function")
        {
            throw OpenAIErrorException.BadRequest(Shape, Param + ".type");
        }

        if (!choice.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
        {
            throw OpenAIErrorException.BadRequest(Shape, Param + ".function");
        }

        var name = function.TryGetProperty("name", out var nameElement) && nameElement.ValueKind == JsonValueKind.String ? nameElement.GetString() : null;
        name = Required(name, "name", Param + ".function");
        return tools.Any(t => t.Name == name)
            ? ChatToolMode.RequireSpecific(name)
            : throw OpenAIErrorException.BadRequest(
                tools.Count == 0 ? $"tool_choice names the function '{name}' but the request has no tools." : $"tool_choice names the function '{name}', which is not in tools ({string.Join(", ", tools.Select(t => t.Name))}).",
                Param + ".function.name");
    }

    // The arguments of an assistant's earlier call: a JSON object written as a string (as OpenAI sends them), or the object itself.
    internal static Dictionary<string, object?> Arguments(JsonElement? arguments, string param)
    {
        if (arguments is not { ValueKind: not JsonValueKind.Null } value)
        {
            return [];
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            var text = value.GetString()!;
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
    private static string Name(string? name, string param)
    {
        name = Required(name, "name", param);
        return name.Length <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-')
            ? name
            : throw OpenAIErrorException.BadRequest($"Invalid name '{name}': use letters, digits, underscores and dashes, at most 64 characters.", param + ".name");
    }

    private static string Required(string? value, string property, string param) =>
        value is { Length: > 0 } text ? text : throw OpenAIErrorException.BadRequest($"{property} is required and must be a non-empty string.", param + "." + property);

    private static string Param(int index, string field) => string.Create(CultureInfo.InvariantCulture, $"messages[{index}].{field}");
}
