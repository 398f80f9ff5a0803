namespace Infera;

/// <summary>Parses tool calls out of a model's reply, in any <see cref="ToolCallFormat"/>.</summary>
/// <remarks>
/// <para>
/// The parser is lenient about whitespace, accepts text before the calls (and after them), arguments given as a JSON
/// string instead of an object, the OpenAI shape <c>{"type": "function", "function": {…}}</c>, and for
/// <see cref="ToolCallFormat.Mistral"/> a bare JSON array whose <c>[TOOL_CALLS]</c> special token was not decoded.
/// A reply that looks like calls but is not valid gives an error naming the position; the text is kept: for block
/// formats (<see cref="ToolCallFormat.Hermes"/>) the blocks before the malformed one are still calls, for list
/// formats a malformed list yields no calls and the whole reply as text.
/// </para>
/// <para>This class is thread-safe.</para>
/// </remarks>
public static class ToolCallParser
{
    /// <summary>Parses a whole reply.</summary>
    /// <param name="text">The reply text.</param>
    /// <param name="format">The format the model writes calls in.</param>
    /// <returns>The calls, the text around them, and an error when part of the reply looks like a call but is not one.</returns>
    public static ToolCallParseResult Parse(string text, ToolCallFormat format)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(format);
        var start = ToolCallScanner.FindStart(text, format);
        if (start < 0)
        {
            return new ToolCallParseResult(text, text, [], null);
        }

        var scan = ToolCallScanner.Scan(text, start, format, final: true);
        if (scan.Error is not null && format.ListOpen.Length > 0)
        {
            // A list of calls is one unit: when any part of it is malformed, none of it is taken as calls.
            return new ToolCallParseResult(text, text, [], scan.Error);
        }

        var calls = scan.Calls.Select(c => c.ToContent(format)).ToArray();
        var rest = scan.Error is null ? text[scan.End..] : text[scan.ErrorStart..];
        var outside = string.IsNullOrWhiteSpace(rest) ? text[..start].TrimEnd() : string.Concat(text[..start], rest);
        return new ToolCallParseResult(text, outside, calls, scan.Error);
    }
}
