using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera;

/// <summary>An <see cref="ITokenizer"/> over ONNX Runtime GenAI's tokenizer for a loaded model.</summary>
/// <remarks>
/// GenAI's tokenizer adds special tokens according to a tokenizer-wide option, so this class holds two native
/// tokenizers, one with special tokens and one without, and picks per call. Instances are thread-safe.
/// </remarks>
public sealed class OnnxTokenizer : ITokenizer, IDisposable
{
    private readonly Tokenizer _withSpecialTokens;
    private readonly Tokenizer _plain;
    private readonly HashSet<int> _specialTokenIds;
    private bool _disposed;

    internal OnnxTokenizer(Model model, string? chatTemplate, IEnumerable<int> specialTokenIds)
    {
        _plain = new Tokenizer(model);
        _withSpecialTokens = new Tokenizer(model);
        _withSpecialTokens.UpdateOptions(new Dictionary<string, string> { ["add_special_tokens"] = "true" });
        ChatTemplate = chatTemplate;
        _specialTokenIds = [.. specialTokenIds];
    }

    /// <inheritdoc />
    public string? ChatTemplate { get; }

    /// <inheritdoc />
    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var sequences = (addSpecialTokens ? _withSpecialTokens : _plain).Encode(text);
        return sequences[0].ToArray();
    }

    /// <inheritdoc />
    public string Decode(ReadOnlySpan<int> tokenIds)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return tokenIds.IsEmpty ? string.Empty : _plain.Decode(tokenIds);
    }

    /// <inheritdoc />
    public ITokenStreamDecoder CreateStreamDecoder()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new StreamDecoder(_plain.CreateStream(), _specialTokenIds);
    }

    /// <inheritdoc />
    public string ApplyChatTemplate(string messagesJson, string? toolsJson = null, bool addGenerationPrompt = true)
    {
        ArgumentNullException.ThrowIfNull(messagesJson);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (ChatTemplate is null)
        {
            throw new InvalidOperationException("The model has no chat template (tokenizer_config.json has no chat_template).");
        }

        return _plain.ApplyChatTemplate(ChatTemplate, messagesJson, toolsJson ?? string.Empty, addGenerationPrompt);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _plain.Dispose();
        _withSpecialTokens.Dispose();
    }

    private sealed class StreamDecoder(TokenizerStream stream, HashSet<int> specialTokenIds) : ITokenStreamDecoder
    {
        public string Decode(int tokenId) => specialTokenIds.Contains(tokenId) ? string.Empty : stream.Decode(tokenId);

        public void Dispose() => stream.Dispose();
    }
}
