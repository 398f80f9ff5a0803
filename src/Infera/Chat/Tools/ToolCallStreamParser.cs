using Microsoft.Extensions.AI;

namespace Infera;

/// <summary>
/// Splits a streamed reply into text and tool calls: text is passed on as soon as it cannot be the start of a call;
/// once the reply starts with the format's opener, each call is passed on as a <see cref="FunctionCallContent"/> when it is complete.
/// </summary>
/// <remarks>Infera's tool grammar makes a reply either text that never contains the opener, or calls only. Not thread-safe.</remarks>
internal sealed class ToolCallStreamParser(ToolCallFormat format, bool callsRequired = false)
{
    private readonly System.Text.StringBuilder _buffer = new();
    private State _state;
    private int _callStart;
    private int _emittedCalls;
    private string? _bufferText;

    private enum State
    {
        Undecided,
        Text,
        Calls,
    }

    /// <summary>Gets the number of calls passed on so far.</summary>
    public int CallCount => _emittedCalls;

    /// <summary>Gets a value indicating whether the reply is calls (rather than text).</summary>
    public bool IsCalls => _state == State.Calls;

    /// <summary>Adds the next piece of the reply; returns what can be passed on now.</summary>
    public IReadOnlyList<AIContent> Append(string piece)
    {
        if (piece.Length == 0)
        {
            return [];
        }

        if (_state == State.Text)
        {
            return [new TextContent(piece)];
        }

        _buffer.Append(piece);
        _bufferText = null;
        if (_state == State.Undecided)
        {
            var text = BufferText;
            var first = 0;
            while (first < text.Length && char.IsWhiteSpace(text[first]))
            {
                first++;
            }

            var rest = text.AsSpan(first);
            if (rest.IsEmpty || format.Opener.AsSpan().StartsWith(rest, StringComparison.Ordinal))
            {
                return [];
            }

            if (!rest.StartsWith(format.Opener, StringComparison.Ordinal))
            {
                _state = State.Text;
                _buffer.Clear();
                return [new TextContent(text)];
            }

            _state = State.Calls;
            _callStart = first;
        }

        // A call can only have completed where this piece closes something.
        return piece.AsSpan().IndexOfAny("}>]") >= 0 ? TakeCompletedCalls(final: false, cutOff: false, out _) : [];
    }

    /// <summary>Ends the reply; returns what is left, with an error when the rest is not a complete call.</summary>
    /// <param name="cutOff"><see langword="true"/> when the reply was cut off (by the token limit or a stop sequence) rather than ended by the model.</param>
    /// <param name="error">Receives what was wrong with the end of the reply, or <see langword="null"/>.</param>
    /// <remarks>
    /// Tool-call markup is never passed on as text: what follows the last complete call (a call cut off by the token
    /// limit, say) is dropped and <paramref name="error"/> says so; so is a cut-off reply that is only the start of the opener.
    /// </remarks>
    public IReadOnlyList<AIContent> Complete(bool cutOff, out string? error)
    {
        error = null;
        switch (_state)
        {
            case State.Undecided:
                var held = BufferText;
                _buffer.Clear();
                if (cutOff && (held.Trim().Length > 0 || callsRequired) && format.Opener.AsSpan().StartsWith(held.AsSpan().Trim(), StringComparison.Ordinal))
                {
                    error = "The reply was cut off at the start of a tool call.";
                    return [];
                }

                return held.Length > 0 ? [new TextContent(held)] : [];
            case State.Calls:
                return TakeCompletedCalls(final: true, cutOff, out error);
            default:
                return [];
        }
    }

    private string BufferText => _bufferText ??= _buffer.ToString();

    private List<AIContent> TakeCompletedCalls(bool final, bool cutOff, out string? error)
    {
        var text = BufferText;
        var scan = ToolCallScanner.Scan(text, _callStart, format, final);
        var contents = new List<AIContent>();
        for (var i = _emittedCalls; i < scan.Calls.Count; i++)
        {
            contents.Add(scan.Calls[i].ToContent(format));
        }

        _emittedCalls = scan.Calls.Count;
        error = scan.Error;
        if (final)
        {
            // The reply is calls: what follows the last complete one is an unfinished call, never text for the reader.
            var rest = scan.Status == ToolCallScanner.Status.Error ? text[scan.ErrorStart..] : text[scan.End..];
            if (!string.IsNullOrWhiteSpace(rest))
            {
                var kept = scan.Calls.Count == 0 ? "no call was complete" : $"the {scan.Calls.Count} complete call(s) before it are kept";
                error = cutOff
                    ? $"The reply was cut off inside a tool call ({kept}); raise the token limit for the whole call."
                    : $"Malformed tool call ({error ?? "text after the calls"}; {kept}).";
            }

            _buffer.Clear();
        }

        return contents;
    }
}
