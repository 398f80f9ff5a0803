namespace Infera;

/// <summary>Finds stop sequences in streamed text, across token boundaries, and holds back text that may be the start of one.</summary>
/// <remarks>
/// Feed each decoded piece to <see cref="Append"/>; it returns the text that can be shown now. Text that could still
/// turn out to be the beginning of a stop sequence is held until the next piece decides it. When a stop sequence is
/// found, the text before it is returned and the stop sequence itself is not. Not thread-safe.
/// </remarks>
public sealed class StopSequenceMatcher
{
    private readonly string[] _stops;
    private string _pending = string.Empty;

    /// <summary>Initializes a new instance of the <see cref="StopSequenceMatcher"/> class.</summary>
    /// <param name="stopSequences">The stop sequences; empty strings are ignored.</param>
    public StopSequenceMatcher(IEnumerable<string> stopSequences)
    {
        ArgumentNullException.ThrowIfNull(stopSequences);
        _stops = [.. stopSequences.Where(s => !string.IsNullOrEmpty(s)).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>Gets a value indicating whether a stop sequence has been found.</summary>
    public bool IsStopped { get; private set; }

    /// <summary>Gets the stop sequence that was found, or <see langword="null"/>.</summary>
    public string? MatchedStopSequence { get; private set; }

    /// <summary>Adds a piece of text and returns the text that can be emitted now.</summary>
    /// <param name="piece">The next piece of generated text.</param>
    /// <returns>The text that is certainly not part of a stop sequence; empty while text is held back or after a stop.</returns>
    public string Append(string piece)
    {
        ArgumentNullException.ThrowIfNull(piece);
        if (IsStopped)
        {
            return string.Empty;
        }

        if (_stops.Length == 0)
        {
            return piece;
        }

        var text = _pending.Length == 0 ? piece : string.Concat(_pending, piece);
        var earliest = -1;
        foreach (var stop in _stops)
        {
            var at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (earliest < 0 || at < earliest))
            {
                earliest = at;
                MatchedStopSequence = stop;
            }
        }

        if (earliest >= 0)
        {
            IsStopped = true;
            _pending = string.Empty;
            return text[..earliest];
        }

        var hold = LongestSuffixThatStartsAStop(text);
        _pending = text[^hold..];
        return text[..^hold];
    }

    /// <summary>Returns the text still held back, at the end of generation.</summary>
    /// <returns>The held text; empty after a stop.</returns>
    public string Flush()
    {
        var rest = IsStopped ? string.Empty : _pending;
        _pending = string.Empty;
        return rest;
    }

    private int LongestSuffixThatStartsAStop(string text)
    {
        var best = 0;
        foreach (var stop in _stops)
        {
            for (var length = Math.Min(stop.Length - 1, text.Length); length > best; length--)
            {
                if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    best = length;
                    break;
                }
            }
        }

        return best;
    }
}
