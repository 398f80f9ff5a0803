using System.Text.Json.Serialization;

namespace Infera.Server;

/// <summary>What every line of an <c>/api/chat</c> or <c>/api/generate</c> stream carries; the last also has <c>done_reason</c> and the metrics (nanoseconds).</summary>
internal abstract class OllamaStreamResponse
{
    [JsonPropertyOrder(-3)]
    public required string Model { get; init; }

    [JsonPropertyOrder(-2)]
    public required string CreatedAt { get; init; }

    public bool Done { get; private set; }

    public string? DoneReason { get; private set; }

    public long? TotalDuration { get; private set; }

    public long? LoadDuration { get; private set; }

    public int? PromptEvalCount { get; private set; }

    public long? PromptEvalDuration { get; private set; }

    public int? EvalCount { get; private set; }

    public long? EvalDuration { get; private set; }

    /// <summary>Makes this the last line, with why it ends and no metrics (a load or unload answer).</summary>
    public void Finish(string doneReason)
    {
        Done = true;
        DoneReason = doneReason;
    }

    /// <summary>Makes this the last line: done, with why and the metrics.</summary>
    public void Finish(string doneReason, long totalDuration, long loadDuration, int promptEvalCount, long promptEvalDuration, int evalCount, long evalDuration)
    {
        Finish(doneReason);
        TotalDuration = totalDuration;
        LoadDuration = loadDuration;
        PromptEvalCount = promptEvalCount;
        PromptEvalDuration = promptEvalDuration;
        EvalCount = evalCount;
        EvalDuration = evalDuration;
    }
}

/// <summary>One line of an <c>/api/chat</c> stream, or its whole answer.</summary>
internal sealed class OllamaChatResponse : OllamaStreamResponse
{
    [JsonPropertyOrder(-1)]
    public required OllamaMessage Message { get; init; }
}

/// <summary>One line of an <c>/api/generate</c> stream, or its whole answer.</summary>
internal sealed class OllamaGenerateResponse : OllamaStreamResponse
{
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    [JsonPropertyOrder(-1)]
    public required string Response { get; init; }

    public List<OllamaToolCall>? ToolCalls { get; init; }
}

/// <summary>Ollama's error body: <c>{"error": "..."}</c>.</summary>
internal sealed class OllamaError
{
    public required string Error { get; init; }
}

/// <summary>The answer of <c>/api/version</c>.</summary>
internal sealed class OllamaVersion
{
    public required string Version { get; init; }
}

/// <summary>A progress line of <c>/api/pull</c> and <c>/api/create</c>.</summary>
internal sealed class OllamaProgress
{
    public required string Status { get; init; }

    public string? Digest { get; init; }

    public long? Total { get; init; }

    public long? Completed { get; init; }
}

/// <summary>What a model is: <c>details</c> in <c>/api/tags</c>, <c>/api/ps</c> and <c>/api/show</c>.</summary>
internal sealed class OllamaModelDetails
{
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string ParentModel { get; init; } = string.Empty;

    public string Format { get; init; } = "onnx";

    public required string Family { get; init; }

    public required List<string> Families { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public required string ParameterSize { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public required string QuantizationLevel { get; init; }
}

/// <summary>A model in <c>/api/tags</c> and <c>/api/ps</c>.</summary>
internal sealed class OllamaModelInfo
{
    public required string Name { get; init; }

    public required string Model { get; init; }

    public string? ModifiedAt { get; init; }

    public required long Size { get; init; }

    public required string Digest { get; init; }

    public required OllamaModelDetails Details { get; init; }

    public string? ExpiresAt { get; init; }

    public long? SizeVram { get; init; }

    public int? ContextLength { get; init; }

    public List<string>? Capabilities { get; init; }
}

/// <summary>The answer of <c>/api/tags</c> and <c>/api/ps</c>.</summary>
internal sealed class OllamaModelList
{
    public required List<OllamaModelInfo> Models { get; init; }
}

/// <summary>The answer of <c>/api/show</c>.</summary>
internal sealed class OllamaShowResponse
{
    public string? License { get; init; }

    public required string Modelfile { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public required string Parameters { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public required string Template { get; init; }

    public string? System { get; init; }

    public required OllamaModelDetails Details { get; init; }

    public required Dictionary<string, object> ModelInfo { get; init; }

    public required List<string> Capabilities { get; init; }

    public required string ModifiedAt { get; init; }
}

/// <summary>The answer of <c>/api/embed</c>.</summary>
internal sealed class OllamaEmbedResponse
{
    public required string Model { get; init; }

    public required List<float[]> Embeddings { get; init; }
}
