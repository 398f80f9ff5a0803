using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Infera;

/// <summary>
/// What a chat request asks of the output: a JSON response format, a regular expression or grammar, tools to call
/// (and how), turned into the one <see cref="DecodingConstraint"/> that decoding follows.
/// </summary>
internal sealed class ChatConstraintPlan
{
    private static readonly ChatConstraintPlan None = new(null, [], [], ToolCallFormat.Hermes, toolsRequired: false, expectsJson: false);

    private ChatConstraintPlan(DecodingConstraint? constraint, IReadOnlyList<AIFunctionDeclaration> promptTools, IReadOnlyList<AIFunctionDeclaration> callableTools, ToolCallFormat format, bool toolsRequired, bool expectsJson)
    {
        Constraint = constraint;
        PromptTools = promptTools;
        CallableTools = callableTools;
        Format = format;
        ToolsRequired = toolsRequired;
        ExpectsJson = expectsJson;
    }

    /// <summary>Gets the constraint decoding follows, or <see langword="null"/> for free text.</summary>
    public DecodingConstraint? Constraint { get; }

    /// <summary>Gets the tools the prompt shows the model (empty when tools are not offered).</summary>
    public IReadOnlyList<AIFunctionDeclaration> PromptTools { get; }

    /// <summary>Gets the tools a reply may call (empty when it may call none).</summary>
    public IReadOnlyList<AIFunctionDeclaration> CallableTools { get; }

    /// <summary>Gets the format tool calls are written in.</summary>
    public ToolCallFormat Format { get; }

    /// <summary>Gets a value indicating whether the reply must be calls.</summary>
    public bool ToolsRequired { get; }

    /// <summary>Gets a value indicating whether a text reply must be one JSON value.</summary>
    public bool ExpectsJson { get; }

    /// <summary>Gets a value indicating whether replies are parsed for tool calls.</summary>
    public bool ParsesToolCalls => CallableTools.Count > 0;

    public static ChatConstraintPlan Create(ChatOptions? options, InferaChatClientOptions clientOptions, ITokenizer tokenizer)
    {
        if (options is null)
        {
            return None;
        }

        var extra = options.AdditionalProperties;
        var format = ReadFormat(extra) ?? clientOptions.ToolCallFormat ?? ToolCallFormat.Detect(tokenizer.ChatTemplate);
        var jsonSchema = ResponseSchema(options.ResponseFormat, extra);
        var regex = ReadString(extra, InferaChatClient.RegexKey);
        var lark = ReadString(extra, InferaChatClient.LarkGrammarKey);
        var given = (jsonSchema is null ? 0 : 1) + (regex is null ? 0 : 1) + (lark is null ? 0 : 1);
        if (given > 1)
        {
            throw new ArgumentException("Give at most one of a JSON response format (or json_schema), regex and lark_grammar.", nameof(options));
        }

        var tools = options.Tools?.OfType<AIFunctionDeclaration>().ToArray() ?? [];
        var offered = tools.Length > 0 && options.ToolMode is not NoneChatToolMode;
        if (!offered)
        {
            var constraint = jsonSchema is not null ? Compile(DecodingConstraintKind.JsonSchema, jsonSchema.ToJsonString())
                : regex is not null ? Compile(DecodingConstraintKind.Regex, regex)
                : lark is not null ? Compile(DecodingConstraintKind.LarkGrammar, lark)
                : null;
            return new ChatConstraintPlan(constraint, [], [], format, toolsRequired: false, expectsJson: jsonSchema is not null);
        }

        if (regex is not null || lark is not null)
        {
            throw new NotSupportedException("A regex or lark_grammar constraint cannot be combined with tools: the tool grammar constrains the reply. Set ToolMode to ChatToolMode.None to use your own grammar.");
        }

        var callable = tools;
        var required = false;
        if (options.ToolMode is RequiredChatToolMode requiredMode)
        {
            required = true;
            if (requiredMode.RequiredFunctionName is { } name)
            {
                callable = [.. tools.Where(t => t.Name == name)];
                if (callable.Length == 0)
                {
                    throw new ArgumentException($"ToolMode requires the tool '{name}', but ChatOptions.Tools has no function of that name (it has: {string.Join(", ", tools.Select(t => t.Name))}).", nameof(options));
                }
            }
        }

        // A named tool choice asks for one call of that tool (as OpenAI's and vLLM's named function calling give): the
        // grammar ends after it, so a sampled reply cannot go on calling until the token limit.
        var allowMultiple = (options.AllowMultipleToolCalls ?? true) && options.ToolMode is not RequiredChatToolMode { RequiredFunctionName: not null };
        var grammar = ToolGrammar.Build(format, callable, required, allowMultiple, required ? null : jsonSchema);
        return new ChatConstraintPlan(Compile(DecodingConstraintKind.LarkGrammar, grammar), tools, callable, format, required, expectsJson: !required && jsonSchema is not null);
    }

    /// <summary>The schema a JSON response format asks for, made compact unless the schema sets its own <c>x-guidance</c>.</summary>
    internal static JsonNode? ResponseSchema(ChatResponseFormat? responseFormat, AdditionalPropertiesDictionary? extra)
    {
        JsonNode? schema = null;
        if (ReadString(extra, InferaChatClient.JsonSchemaKey) is { } raw)
        {
            schema = ParseSchema(raw);
        }
        else if (responseFormat is ChatResponseFormatJson json)
        {
            // Any JSON object, when no schema is given (OpenAI's json_object).
            schema = json.Schema is { } element ? ParseSchema(element.GetRawText()) : new JsonObject { ["type"] = "object" };
        }

        if (schema is not null)
        {
            CloseObjects(schema);
        }

        if (schema is JsonObject obj && !obj.ContainsKey("x-guidance"))
        {
            // The guidance library's JSON grammar allows free whitespace by default, and a small model then writes
            // newlines until the token limit: compact output unless the schema asks otherwise.
            obj["x-guidance"] = new JsonObject { ["whitespace_flexible"] = false };
        }

        return schema;
    }

    /// <summary>
    /// Gives every object schema that lists its properties but says nothing about others <c>"additionalProperties": false</c>.
    /// Any reply valid under the closed schema is valid under the open one; an open object lets a small model add
    /// invented properties until the token limit, and no reader expects them. A schema that sets
    /// <c>additionalProperties</c> itself keeps its choice.
    /// </summary>
    internal static void CloseObjects(JsonNode node)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj.ContainsKey("properties") && !obj.ContainsKey("additionalProperties") && !obj.ContainsKey("patternProperties") && !obj.ContainsKey("unevaluatedProperties"))
                {
                    obj["additionalProperties"] = false;
                }

                foreach (var (key, child) in obj.ToArray())
                {
                    if (child is not null && key is not ("enum" or "const" or "default" or "examples" or "x-guidance"))
                    {
                        CloseObjects(child);
                    }
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    if (child is not null)
                    {
                        CloseObjects(child);
                    }
                }

                break;
        }
    }

    private static JsonNode ParseSchema(string text)
    {
        try
        {
            return JsonNode.Parse(text) ?? throw new ConstraintCompilationException(DecodingConstraint.JsonSchema(text), "the schema is the JSON literal null");
        }
        catch (JsonException ex)
        {
            throw new ConstraintCompilationException(DecodingConstraint.JsonSchema(string.IsNullOrWhiteSpace(text) ? "(empty)" : text), "the schema is not valid JSON: " + ex.Message, ex);
        }
    }

    private static DecodingConstraint Compile(DecodingConstraintKind kind, string text) => kind switch
    {
        DecodingConstraintKind.JsonSchema => DecodingConstraint.JsonSchema(text),
        DecodingConstraintKind.Regex => DecodingConstraint.Regex(text),
        _ => DecodingConstraint.LarkGrammar(text),
    };

    private static ToolCallFormat? ReadFormat(AdditionalPropertiesDictionary? extra) =>
        extra is not null && extra.TryGetValue(InferaChatClient.ToolCallFormatKey, out var value) ? value switch
        {
            null => null,
            ToolCallFormat format => format,
            _ => ReadString(extra, InferaChatClient.ToolCallFormatKey) is { } name ? ToolCallFormat.FromName(name) : null,
        } : null;

    private static string? ReadString(AdditionalPropertiesDictionary? extra, string key)
    {
        if (extra is null || !extra.TryGetValue(key, out var value) || value is null)
        {
            return null;
        }

        return value switch
        {
            string text => text,
            JsonElement { ValueKind: JsonValueKind.String } element => element.GetString(),
            JsonElement element => element.GetRawText(),
            JsonNode node => node.ToJsonString(),
            IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString(),
        };
    }
}
