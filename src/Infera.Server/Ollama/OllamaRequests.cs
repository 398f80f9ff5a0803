using System.Text.Json;
using System.Text.Json.Serialization;

namespace Infera.Server;

/// <summary>The body of <c>POST /api/chat</c> (Ollama's <c>api.ChatRequest</c>).</summary>
internal sealed class OllamaChatRequest
{
    public string? Model { get; set; }

    public List<OllamaMessage>? Messages { get; set; }

    public bool? Stream { get; set; }

    /// <summary>Gets or sets <c>"json"</c> or a JSON schema.</summary>
    public JsonElement? Format { get; set; }

    public JsonElement? KeepAlive { get; set; }

    public List<ChatRequestTool>? Tools { get; set; }

    public Dictionary<string, JsonElement>? Options { get; set; }

    public JsonElement? Think { get; set; }

    public bool? Truncate { get; set; }

    public bool? Shift { get; set; }

    public string? Template { get; set; }

    public bool? Logprobs { get; set; }

    public int? TopLogprobs { get; set; }
}

/// <summary>The body of <c>POST /api/generate</c> (Ollama's <c>api.GenerateRequest</c>).</summary>
internal sealed class OllamaGenerateRequest
{
    public string? Model { get; set; }

    public string? Prompt { get; set; }

    public string? Suffix { get; set; }

    public string? System { get; set; }

    public string? Template { get; set; }

    public List<long>? Context { get; set; }

    public bool? Stream { get; set; }

    public bool? Raw { get; set; }

    public JsonElement? Format { get; set; }

    public JsonElement? KeepAlive { get; set; }

    public List<string>? Images { get; set; }

    public Dictionary<string, JsonElement>? Options { get; set; }

    public JsonElement? Think { get; set; }

    public bool? Truncate { get; set; }

    public bool? Shift { get; set; }

    public bool? Logprobs { get; set; }

    public int? TopLogprobs { get; set; }
}

/// <summary>A chat message, in requests and responses.</summary>
internal sealed class OllamaMessage
{
    public string? Role { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Content { get; set; }

    public string? Thinking { get; set; }

    public List<string>? Images { get; set; }

    public List<OllamaToolCall>? ToolCalls { get; set; }

    public string? ToolName { get; set; }

    public string? ToolCallId { get; set; }
}

/// <summary>A tool call: <c>arguments</c> is a JSON object, not a string as in OpenAI's API.</summary>
internal sealed class OllamaToolCall
{
    public string? Id { get; set; }

    public OllamaToolCallFunction? Function { get; set; }
}

/// <summary>The function of a tool call.</summary>
internal sealed class OllamaToolCallFunction
{
    public int? Index { get; set; }

    public string? Name { get; set; }

    public JsonElement? Arguments { get; set; }
}

/// <summary>A body naming one model: <c>/api/show</c>, <c>/api/delete</c>, <c>/api/pull</c> (<c>name</c> is the older spelling).</summary>
internal sealed class OllamaModelRequest
{
    public string? Model { get; set; }

    public string? Name { get; set; }

    public bool? Stream { get; set; }

    public bool? Verbose { get; set; }

    public bool? Insecure { get; set; }

    public string? Target => string.IsNullOrWhiteSpace(Model) ? Name : Model;
}

/// <summary>The body of <c>POST /api/copy</c>.</summary>
internal sealed class OllamaCopyRequest
{
    public string? Source { get; set; }

    public string? Destination { get; set; }
}

/// <summary>The body of <c>POST /api/create</c>: a Modelfile's text, or its parts as fields (<c>from</c>, <c>system</c>, <c>template</c>, <c>parameters</c>, <c>license</c>).</summary>
internal sealed class OllamaCreateRequest
{
    public string? Model { get; set; }

    public string? Name { get; set; }

    public string? Modelfile { get; set; }

    public string? From { get; set; }

    public string? System { get; set; }

    public string? Template { get; set; }

    public JsonElement? License { get; set; }

    public Dictionary<string, JsonElement>? Parameters { get; set; }

    public bool? Stream { get; set; }

    public string? Quantize { get; set; }

    public JsonElement? Files { get; set; }

    public JsonElement? Adapters { get; set; }

    public JsonElement? Messages { get; set; }
}

/// <summary>The body of <c>POST /api/embed</c> and <c>POST /api/embeddings</c>.</summary>
internal sealed class OllamaEmbedRequest
{
    public string? Model { get; set; }

    public JsonElement? Input { get; set; }

    public string? Prompt { get; set; }

    public JsonElement? KeepAlive { get; set; }

    public Dictionary<string, JsonElement>? Options { get; set; }

    public bool? Truncate { get; set; }

    public int? Dimensions { get; set; }
}
