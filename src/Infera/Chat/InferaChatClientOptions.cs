namespace Infera;

/// <summary>Options for <see cref="InferaChatClient"/>.</summary>
public sealed class InferaChatClientOptions
{
    /// <summary>Gets or sets the stop sequences applied to every request, in addition to <c>ChatOptions.StopSequences</c>.</summary>
    public IList<string> StopSequences { get; } = [];

    /// <summary>Gets or sets what happens when a prompt plus the requested tokens exceed the context length. The default, <see cref="ContextOverflowPolicy.Throw"/>, never truncates silently.</summary>
    public ContextOverflowPolicy ContextOverflow { get; set; } = ContextOverflowPolicy.Throw;

    /// <summary>Gets or sets the format the model writes tool calls in. <see langword="null"/> (the default) chooses it from the model's chat template with <see cref="Infera.ToolCallFormat.Detect"/>; a request's <c>tool_call_format</c> additional property overrides both.</summary>
    public ToolCallFormat? ToolCallFormat { get; set; }

    /// <summary>Gets or sets the provider name reported in <c>ChatClientMetadata</c>. The default is <c>infera</c>.</summary>
    public string ProviderName { get; set; } = "infera";
}
