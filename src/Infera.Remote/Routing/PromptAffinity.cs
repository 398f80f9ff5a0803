using System.Text;

namespace Infera.Remote;

/// <summary>
/// Affinity keys: a 64-bit hash of the start of a request's prompt. For a chat, the text is the messages up to and
/// including the first user message (the system prompt and the opening question), which every later turn of the
/// conversation resends unchanged; for a plain prompt, its first characters. Either is cut to a number of characters
/// (<see cref="DefaultPrefixChars"/> unless configured).
/// </summary>
public static class PromptAffinity
{
    /// <summary>The default number of characters hashed.</summary>
    public const int DefaultPrefixChars = 256;

    /// <summary>The key of a plain prompt (completions): its first <paramref name="prefixChars"/> characters.</summary>
    /// <param name="prompt">The prompt.</param>
    /// <param name="prefixChars">How many characters count; 0 turns affinity off.</param>
    /// <returns>The key, or <see langword="null"/> for an empty prompt or when affinity is off.</returns>
    public static ulong? OfPrompt(string? prompt, int prefixChars = DefaultPrefixChars)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixChars);
        if (string.IsNullOrEmpty(prompt) || prefixChars == 0)
        {
            return null;
        }

        return Hash(prompt.AsSpan(0, Math.Min(prompt.Length, prefixChars)));
    }

    /// <summary>The key of a chat: its messages up to and including the first user message, as <c>role</c>, newline,
    /// <c>text</c>, newline, cut to <paramref name="prefixChars"/> characters.</summary>
    /// <param name="messages">The messages, in order: role (system, user, assistant, tool) and text.</param>
    /// <param name="prefixChars">How many characters count; 0 turns affinity off.</param>
    /// <returns>The key, or <see langword="null"/> when there are no messages or affinity is off.</returns>
    public static ulong? OfMessages(IEnumerable<(string Role, string? Text)> messages, int prefixChars = DefaultPrefixChars)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentOutOfRangeException.ThrowIfNegative(prefixChars);
        if (prefixChars == 0)
        {
            return null;
        }

        var text = new StringBuilder();
        foreach (var (role, content) in messages)
        {
            text.Append(role).Append('\n').Append(content).Append('\n');
            if (text.Length >= prefixChars || string.Equals(role, "user", StringComparison.OrdinalIgnoreCase))
            {
                break;
            }
        }

        if (text.Length == 0)
        {
            return null;
        }

        return Hash(text.ToString().AsSpan(0, Math.Min(text.Length, prefixChars)));
    }

    /// <summary>FNV-1a over the UTF-16 code units of a text.</summary>
    internal static ulong Hash(ReadOnlySpan<char> text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in text)
        {
            hash = (hash ^ (byte)c) * 1099511628211UL;
            hash = (hash ^ (byte)(c >> 8)) * 1099511628211UL;
        }

        return hash;
    }
}
