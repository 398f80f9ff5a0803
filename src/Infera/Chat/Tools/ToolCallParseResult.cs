using Microsoft.Extensions.AI;

namespace Infera;

/// <summary>What <see cref="ToolCallParser"/> found in a model's reply: the tool calls, the text around them, and an error when part of the reply looks like a call but is not a valid one.</summary>
/// <remarks>Nothing is lost: text that could not be parsed as calls stays in <see cref="Text"/>, and <see cref="RawText"/> is the reply as it was.</remarks>
public sealed class ToolCallParseResult
{
    internal ToolCallParseResult(string rawText, string text, IReadOnlyList<FunctionCallContent> calls, string? error)
    {
        RawText = rawText;
        Text = text;
        Calls = calls;
        Error = error;
    }

    /// <summary>Gets the reply exactly as the model wrote it.</summary>
    public string RawText { get; }

    /// <summary>Gets the reply's text outside the parsed calls, including, when <see cref="Error"/> is set, the raw text that could not be parsed.</summary>
    public string Text { get; }

    /// <summary>Gets the calls, in the order the model wrote them. Each has a new call id, the tool name, its arguments (values are <see cref="System.Text.Json.JsonElement"/>s) and the call's raw text as <see cref="AIContent.RawRepresentation"/>.</summary>
    public IReadOnlyList<FunctionCallContent> Calls { get; }

    /// <summary>Gets what was wrong with the part of the reply that looks like a call but is not one (with its position), or <see langword="null"/> when the reply parsed.</summary>
    public string? Error { get; }

    /// <summary>Gets a value indicating whether the reply parsed without error.</summary>
    public bool IsSuccess => Error is null;
}
