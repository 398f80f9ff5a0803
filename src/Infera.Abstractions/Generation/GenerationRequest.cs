namespace Infera;

/// <summary>A request to generate tokens: a prompt, given as text or as token ids, and the options that shape generation.</summary>
public sealed class GenerationRequest
{
    /// <summary>Initializes a new instance of the <see cref="GenerationRequest"/> class with a text prompt.</summary>
    /// <param name="prompt">The prompt text. It is encoded with the model's tokenizer, adding the model's special tokens (such as BOS) when <see cref="GenerationOptions.AddSpecialTokens"/> is <see langword="true"/>.</param>
    /// <param name="options">The generation options, or <see langword="null"/> for the defaults.</param>
    public GenerationRequest(string prompt, GenerationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        Prompt = prompt;
        Options = options ?? new GenerationOptions();
    }

    /// <summary>Initializes a new instance of the <see cref="GenerationRequest"/> class with prompt token ids.</summary>
    /// <param name="promptTokens">The prompt's token ids, used as they are.</param>
    /// <param name="options">The generation options, or <see langword="null"/> for the defaults.</param>
    public GenerationRequest(IReadOnlyList<int> promptTokens, GenerationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(promptTokens);
        PromptTokens = promptTokens;
        Options = options ?? new GenerationOptions();
    }

    /// <summary>Gets the prompt text, or <see langword="null"/> when the prompt is given as <see cref="PromptTokens"/>.</summary>
    public string? Prompt { get; }

    /// <summary>Gets the prompt token ids, or <see langword="null"/> when the prompt is given as <see cref="Prompt"/>.</summary>
    public IReadOnlyList<int>? PromptTokens { get; }

    /// <summary>Gets the options that shape generation.</summary>
    public GenerationOptions Options { get; }
}
