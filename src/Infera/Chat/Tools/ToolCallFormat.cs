namespace Infera;

/// <summary>How a model family writes tool calls in its output, and how Infera renders, constrains and parses them.</summary>
/// <remarks>
/// <para>The formats, as Infera's grammar makes a model write them:</para>
/// <list type="bullet">
/// <item><description><see cref="Hermes"/> (Hermes, Qwen 2/2.5/3 and most fine-tunes): one
/// <c>&lt;tool_call&gt;\n{"name": "…", "arguments": {…}}\n&lt;/tool_call&gt;</c> block per call, separated by newlines.</description></item>
/// <item><description><see cref="Llama3Json"/> (Llama 3.1–3.3 JSON tool calling): one <c>{"name": "…", "parameters": {…}}</c> object; one call per turn.</description></item>
/// <item><description><see cref="Mistral"/>: <c>[TOOL_CALLS][{"name": "…", "arguments": {…}}, …]</c>.</description></item>
/// <item><description><see cref="Phi4"/> (Phi-4-mini): <c>functools[{"name": "…", "arguments": {…}}, …]</c>.</description></item>
/// </list>
/// <para>
/// <see cref="Detect"/> picks the format from the model's chat template; set <see cref="InferaChatClientOptions.ToolCallFormat"/>
/// or the request's <c>tool_call_format</c> additional property to override it. Instances are immutable and thread-safe.
/// </para>
/// </remarks>
public sealed class ToolCallFormat
{
    private ToolCallFormat(string name, string marker, string listOpen, string listClose, string callOpen, string callClose, string separator, string argumentsKey, bool supportsParallelCalls)
    {
        Name = name;
        Marker = marker;
        ListOpen = listOpen;
        ListClose = listClose;
        CallOpen = callOpen;
        CallClose = callClose;
        Separator = separator;
        ArgumentsKey = argumentsKey;
        SupportsParallelCalls = supportsParallelCalls;
    }

    /// <summary>Gets the Hermes/Qwen format: <c>&lt;tool_call&gt;{…}&lt;/tool_call&gt;</c> blocks.</summary>
    public static ToolCallFormat Hermes { get; } = new("hermes", string.Empty, string.Empty, string.Empty, "<tool_call>\n", "\n</tool_call>", "\n", "arguments", supportsParallelCalls: true);

    /// <summary>Gets the Llama 3.x JSON format: one <c>{"name": …, "parameters": {…}}</c> object.</summary>
    public static ToolCallFormat Llama3Json { get; } = new("llama3_json", string.Empty, string.Empty, string.Empty, string.Empty, string.Empty, string.Empty, "parameters", supportsParallelCalls: false);

    /// <summary>Gets the Mistral format: <c>[TOOL_CALLS]</c> followed by a JSON array of calls.</summary>
    public static ToolCallFormat Mistral { get; } = new("mistral", "[TOOL_CALLS]", "[", "]", string.Empty, string.Empty, ", ", "arguments", supportsParallelCalls: true);

    /// <summary>Gets the Phi-4-mini format: <c>functools</c> followed by a JSON array of calls.</summary>
    public static ToolCallFormat Phi4 { get; } = new("phi4", "functools", "[", "]", string.Empty, string.Empty, ", ", "arguments", supportsParallelCalls: true);

    /// <summary>Gets every known format.</summary>
    public static IReadOnlyList<ToolCallFormat> All { get; } = [Hermes, Llama3Json, Mistral, Phi4];

    /// <summary>Gets the format's name (<c>hermes</c>, <c>llama3_json</c>, <c>mistral</c>, <c>phi4</c>).</summary>
    public string Name { get; }

    /// <summary>Gets a value indicating whether the format can hold several calls in one turn.</summary>
    public bool SupportsParallelCalls { get; }

    /// <summary>Gets the text before the list of calls (such as <c>[TOOL_CALLS]</c>); empty when there is none.</summary>
    internal string Marker { get; }

    /// <summary>Gets the text that opens the list of calls, after the marker; empty when calls are not in a list.</summary>
    internal string ListOpen { get; }

    /// <summary>Gets the text that closes the list of calls.</summary>
    internal string ListClose { get; }

    /// <summary>Gets the text before each call's JSON object.</summary>
    internal string CallOpen { get; }

    /// <summary>Gets the text after each call's JSON object.</summary>
    internal string CallClose { get; }

    /// <summary>Gets the text between two calls.</summary>
    internal string Separator { get; }

    /// <summary>Gets the key of a call's arguments object (<c>arguments</c> or <c>parameters</c>).</summary>
    internal string ArgumentsKey { get; }

    /// <summary>Gets the text every reply that holds calls starts with; a text reply never contains it.</summary>
    internal string Opener => Marker.Length > 0 ? Marker + ListOpen : CallOpen.Length > 0 ? CallOpen.TrimEnd('\n') : "{\"name\"";

    /// <summary>Chooses the format a chat template writes tool calls in.</summary>
    /// <param name="chatTemplate">The model's chat template, or <see langword="null"/>.</param>
    /// <returns>The format the template's markers point to; <see cref="Hermes"/> when none does (the most widely trained format, and the one the plain-text fallback prompt describes).</returns>
    public static ToolCallFormat Detect(string? chatTemplate)
    {
        if (string.IsNullOrEmpty(chatTemplate))
        {
            return Hermes;
        }

        if (chatTemplate.Contains("<tool_call>", StringComparison.Ordinal))
        {
            return Hermes;
        }

        if (chatTemplate.Contains("[TOOL_CALLS]", StringComparison.Ordinal))
        {
            return Mistral;
        }

        if (chatTemplate.Contains("functools", StringComparison.Ordinal) || chatTemplate.Contains("<|tool|>", StringComparison.Ordinal))
        {
            return Phi4;
        }

        if (chatTemplate.Contains("<|python_tag|>", StringComparison.Ordinal) || chatTemplate.Contains("<|eom_id|>", StringComparison.Ordinal) || chatTemplate.Contains("ipython", StringComparison.Ordinal))
        {
            return Llama3Json;
        }

        return Hermes;
    }

    /// <summary>Finds a format by its <see cref="Name"/>, ignoring case.</summary>
    /// <param name="name">The name: <c>hermes</c> (or <c>qwen</c>), <c>llama3_json</c> (or <c>llama3</c>), <c>mistral</c>, <c>phi4</c>.</param>
    /// <returns>The format.</returns>
    /// <exception cref="ArgumentException">No format has that name.</exception>
    public static ToolCallFormat FromName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToUpperInvariant() switch
        {
            "HERMES" or "QWEN" => Hermes,
            "LLAMA3_JSON" or "LLAMA3" or "LLAMA" => Llama3Json,
            "MISTRAL" => Mistral,
            "PHI4" or "PHI-4" or "PHI4_MINI" => Phi4,
            _ => throw new ArgumentException($"Unknown tool-call format '{name}'. Known formats: hermes, llama3_json, mistral, phi4.", nameof(name)),
        };
    }

    /// <summary>Parses a model's reply in this format.</summary>
    /// <param name="text">The reply text.</param>
    /// <returns>The calls found, the text around them, and an error when part of the reply looks like a call but is not one.</returns>
    public ToolCallParseResult Parse(string text) => ToolCallParser.Parse(text, this);

    /// <inheritdoc />
    public override string ToString() => Name;
}
