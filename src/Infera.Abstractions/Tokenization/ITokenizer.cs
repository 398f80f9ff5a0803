namespace Infera;

/// <summary>Converts between text and a model's token ids.</summary>
/// <remarks>Implementations are thread-safe.</remarks>
public interface ITokenizer
{
    /// <summary>Encodes text into token ids.</summary>
    /// <param name="text">The text to encode.</param>
    /// <param name="addSpecialTokens"><see langword="true"/> to add the model's special tokens (such as BOS) as its tokenizer configuration says.</param>
    /// <returns>The token ids.</returns>
    int[] Encode(string text, bool addSpecialTokens = true);

    /// <summary>Decodes token ids into text.</summary>
    /// <param name="tokenIds">The token ids.</param>
    /// <returns>The text.</returns>
    string Decode(ReadOnlySpan<int> tokenIds);

    /// <summary>Creates a decoder that turns a stream of token ids into text pieces, one token at a time.</summary>
    /// <returns>A new decoder; dispose it when done.</returns>
    ITokenStreamDecoder CreateStreamDecoder();

    /// <summary>Gets the model's chat template (a Jinja template from <c>tokenizer_config.json</c>), or <see langword="null"/> when it has none.</summary>
    string? ChatTemplate { get; }

    /// <summary>Renders a conversation into prompt text with the model's chat template.</summary>
    /// <param name="messagesJson">The messages as a JSON array of objects with <c>role</c> and <c>content</c> (and, where the template supports them, <c>tool_calls</c> and tool results).</param>
    /// <param name="toolsJson">The tools as a JSON array in the OpenAI function format, or <see langword="null"/>.</param>
    /// <param name="addGenerationPrompt"><see langword="true"/> to end with the prompt that starts the assistant's turn.</param>
    /// <returns>The prompt text.</returns>
    /// <exception cref="InvalidOperationException">The model has no chat template.</exception>
    string ApplyChatTemplate(string messagesJson, string? toolsJson = null, bool addGenerationPrompt = true);
}
