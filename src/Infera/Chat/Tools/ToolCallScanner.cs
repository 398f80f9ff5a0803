using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Infera;

/// <summary>The scanner under <see cref="ToolCallParser"/> and the streaming parser: finds complete calls in text that may still grow.</summary>
internal static class ToolCallScanner
{
    public enum Status
    {
        /// <summary>The calls are complete; text after <see cref="Result.End"/> is not part of them.</summary>
        Complete,

        /// <summary>The text ends inside a call or between calls; more text may complete it.</summary>
        NeedMore,

        /// <summary>The text is not a valid call at <see cref="Result.ErrorStart"/>.</summary>
        Error,
    }

    /// <summary>Where calls begin in a reply, or -1 when the reply holds none.</summary>
    public static int FindStart(string text, ToolCallFormat format)
    {
        var first = SkipWhitespace(text, 0);
        if (format.Marker.Length > 0)
        {
            var at = text.IndexOf(format.Marker, StringComparison.Ordinal);
            if (at >= 0)
            {
                return at;
            }

            // A marker that is a special token may have been dropped by the decoder: a reply that is a JSON array of calls.
            return StartsWithCallList(text, first) ? first : -1;
        }

        if (format.CallOpen.Length > 0)
        {
            return text.IndexOf(format.CallOpen.TrimEnd('\n'), StringComparison.Ordinal);
        }

        // Llama 3.x: the reply is the call object itself (optionally after <|python_tag|>).
        const string PythonTag = "<|python_tag|>";
        if (text.AsSpan(first).StartsWith(PythonTag, StringComparison.Ordinal))
        {
            return first;
        }

        return first < text.Length && text[first] == '{' ? first : -1;
    }

    public static Result Scan(string text, int start, ToolCallFormat format, bool final)
    {
        var calls = new List<RawCall>();
        var pos = start;
        if (format.Marker.Length > 0)
        {
            switch (Expect(text, ref pos, format.Marker, final))
            {
                case Match.Partial:
                    return new Result(calls, start, Status.NeedMore, null, start);
                case Match.No when !StartsWithCallList(text, pos):
                    return Fail(calls, start, $"expected '{format.Marker}' at position {pos}");
            }
        }
        else if (format.CallOpen.Length == 0 && text.AsSpan(pos).StartsWith("<|python_tag|>", StringComparison.Ordinal))
        {
            pos += "<|python_tag|>".Length;
        }

        if (format.ListOpen.Length > 0)
        {
            pos = SkipWhitespace(text, pos);
            switch (Expect(text, ref pos, format.ListOpen, final))
            {
                case Match.Partial:
                    return new Result(calls, start, Status.NeedMore, null, start);
                case Match.No:
                    return Fail(calls, start, $"expected '{format.ListOpen}' at position {pos}");
            }
        }

        var callOpen = format.CallOpen.Trim();
        var callClose = format.CallClose.Trim();
        while (true)
        {
            var callStart = pos;
            pos = SkipWhitespace(text, pos);
            if (pos >= text.Length)
            {
                // Between calls: a list still needs its close; blocks may be followed by more blocks.
                return format.ListOpen.Length > 0
                    ? (final ? Fail(calls, callStart, $"the list of calls is not closed with '{format.ListClose}' (the text ends)") : new Result(calls, callStart, Status.NeedMore, null, callStart))
                    : !final ? new Result(calls, callStart, Status.NeedMore, null, callStart)
                    : calls.Count > 0 ? new Result(calls, callStart, Status.Complete, null, callStart)
                    : Fail(calls, callStart, "the text ends before the first call");
            }

            if (format.ListOpen.Length > 0 && text.AsSpan(pos).StartsWith(format.ListClose, StringComparison.Ordinal) && calls.Count == 0)
            {
                return new Result(calls, pos + format.ListClose.Length, Status.Complete, null, pos);
            }

            if (callOpen.Length > 0)
            {
                switch (Expect(text, ref pos, callOpen, final))
                {
                    case Match.Partial:
                        return new Result(calls, callStart, Status.NeedMore, null, callStart);
                    case Match.No when calls.Count > 0:
                        // Text after the last block is not a call: the calls end here.
                        return new Result(calls, callStart, Status.Complete, null, callStart);
                    case Match.No:
                        return Fail(calls, callStart, $"expected '{callOpen}' at position {pos}");
                }

                pos = SkipWhitespace(text, pos);
            }
            else if (format.ListOpen.Length == 0 && calls.Count > 0)
            {
                // Llama 3.x: further objects may follow, separated by ';' or whitespace.
                if (text[pos] == ';')
                {
                    pos = SkipWhitespace(text, pos + 1);
                }

                if (pos >= text.Length)
                {
                    return new Result(calls, callStart, final ? Status.Complete : Status.NeedMore, null, callStart);
                }

                if (text[pos] != '{')
                {
                    return new Result(calls, callStart, Status.Complete, null, callStart);
                }
            }

            if (pos >= text.Length)
            {
                return final ? Fail(calls, callStart, "the text ends before the call's JSON object") : new Result(calls, callStart, Status.NeedMore, null, callStart);
            }

            if (text[pos] != '{')
            {
                return Fail(calls, callStart, $"expected a JSON object at position {pos}, found '{Excerpt(text, pos)}'");
            }

            var end = FindJsonEnd(text, pos);
            if (end < 0)
            {
                return final ? Fail(calls, callStart, $"the call's JSON object starting at position {pos} is not closed (the text ends)") : new Result(calls, callStart, Status.NeedMore, null, callStart);
            }

            var json = text[pos..end];
            if (!TryReadCall(json, format, out var call, out var error))
            {
                return Fail(calls, callStart, $"the call at position {pos} is invalid: {error}");
            }

            pos = end;
            if (callClose.Length > 0)
            {
                pos = SkipWhitespace(text, pos);
                switch (Expect(text, ref pos, callClose, final))
                {
                    case Match.Partial:
                        return new Result(calls, callStart, Status.NeedMore, null, callStart);
                    case Match.No:
                        return Fail(calls, callStart, $"expected '{callClose}' at position {pos}");
                }
            }

            calls.Add(call with { Raw = text[callStart..pos].Trim() });
            if (format.ListOpen.Length > 0)
            {
                pos = SkipWhitespace(text, pos);
                if (pos >= text.Length)
                {
                    return final ? Fail(calls, pos, $"the list of calls is not closed with '{format.ListClose}' (the text ends)") : new Result(calls, pos, Status.NeedMore, null, pos);
                }

                if (text[pos] == ',')
                {
                    pos++;
                    continue;
                }

                if (text.AsSpan(pos).StartsWith(format.ListClose, StringComparison.Ordinal))
                {
                    return new Result(calls, pos + format.ListClose.Length, Status.Complete, null, pos);
                }

                return Fail(calls, pos, $"expected ',' or '{format.ListClose}' at position {pos}, found '{Excerpt(text, pos)}'");
            }
        }
    }

    /// <summary>Creates a new call id in the form the format's templates accept (Mistral's need nine letters and digits).</summary>
    public static string NewCallId(ToolCallFormat format) =>
        format == ToolCallFormat.Mistral ? RandomAlphanumeric(9) : "call_" + RandomAlphanumeric(24);

    /// <summary>Maps a call id to one the format's templates accept, the same way every time.</summary>
    public static string IdForTemplate(string? callId, ToolCallFormat format)
    {
        callId ??= string.Empty;
        if (format != ToolCallFormat.Mistral || (callId.Length == 9 && callId.All(char.IsAsciiLetterOrDigit)))
        {
            return callId;
        }

        var hash = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(callId));
        return string.Create(9, hash, static (span, bytes) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = Alphabet[bytes[i] % Alphabet.Length];
            }
        });
    }

    /// <summary>Returns the index just after the JSON object or array starting at <paramref name="start"/>, or -1 when the text ends first.</summary>
    public static int FindJsonEnd(string text, int start)
    {
        var depth = 0;
        var inString = false;
        for (var i = start; i < text.Length; i++)
        {
            var c = text[i];
            if (inString)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inString = false;
                }

                continue;
            }

            switch (c)
            {
                case '"':
                    inString = true;
                    break;
                case '{' or '[':
                    depth++;
                    break;
                case '}' or ']':
                    if (--depth == 0)
                    {
                        return i + 1;
                    }

                    break;
            }
        }

        return -1;
    }

    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    private static string RandomAlphanumeric(int length) => RandomNumberGenerator.GetString(Alphabet, length);

    private static bool StartsWithCallList(string text, int pos)
    {
        if (pos >= text.Length || text[pos] != '[')
        {
            return false;
        }

        var next = SkipWhitespace(text, pos + 1);
        return next < text.Length && text[next] == '{';
    }

    private static bool TryReadCall(string json, ToolCallFormat format, out RawCall call, out string error)
    {
        call = default!;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            error = "not valid JSON: " + ex.Message;
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.TryGetProperty("function", out var function) && function.ValueKind == JsonValueKind.Object)
            {
                root = function;
            }

            if (!root.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(nameElement.GetString()))
            {
                error = "it has no \"name\" string";
                return false;
            }

            JsonElement? arguments = null;
            foreach (var key in (ReadOnlySpan<string>)[format.ArgumentsKey, "arguments", "parameters"])
            {
                if (root.TryGetProperty(key, out var value))
                {
                    arguments = value;
                    break;
                }
            }

            var dictionary = new Dictionary<string, object?>(StringComparer.Ordinal);
            switch (arguments)
            {
                case null:
                case { ValueKind: JsonValueKind.Null }:
                    break;
                case { ValueKind: JsonValueKind.Object } obj:
                    Fill(dictionary, obj);
                    break;
                case { ValueKind: JsonValueKind.String } str:
                    try
                    {
                        using var inner = JsonDocument.Parse(str.GetString()!);
                        if (inner.RootElement.ValueKind != JsonValueKind.Object)
                        {
                            error = "its arguments string is not a JSON object";
                            return false;
                        }

                        Fill(dictionary, inner.RootElement);
                    }
                    catch (JsonException ex)
                    {
                        error = "its arguments string is not valid JSON: " + ex.Message;
                        return false;
                    }

                    break;
                default:
                    error = $"its \"{format.ArgumentsKey}\" is a JSON {arguments.Value.ValueKind.ToString().ToLowerInvariant()}, not an object";
                    return false;
            }

            call = new RawCall(nameElement.GetString()!, dictionary, json);
            error = string.Empty;
            return true;
        }

        static void Fill(Dictionary<string, object?> dictionary, JsonElement obj)
        {
            foreach (var property in obj.EnumerateObject())
            {
                dictionary[property.Name] = property.Value.Clone();
            }
        }
    }

    private enum Match
    {
        Yes,
        No,
        Partial,
    }

    /// <summary>Consumes <paramref name="expected"/> at <paramref name="pos"/>; <see cref="Match.Partial"/> when the text ends inside it.</summary>
    private static Match Expect(string text, ref int pos, string expected, bool final)
    {
        var rest = text.AsSpan(pos);
        if (rest.StartsWith(expected, StringComparison.Ordinal))
        {
            pos += expected.Length;
            return Match.Yes;
        }

        return !final && expected.AsSpan().StartsWith(rest, StringComparison.Ordinal) ? Match.Partial : Match.No;
    }

    private static int SkipWhitespace(string text, int pos)
    {
        while (pos < text.Length && char.IsWhiteSpace(text[pos]))
        {
            pos++;
        }

        return pos;
    }

    private static string Excerpt(string text, int pos) => text.Length - pos <= 20 ? text[pos..] : text.Substring(pos, 20) + "…";

    private static Result Fail(List<RawCall> calls, int errorStart, string error) =>
        new(calls, errorStart, Status.Error, string.Create(CultureInfo.InvariantCulture, $"Malformed tool call: {error}."), errorStart);

    public sealed record RawCall(string Name, Dictionary<string, object?> Arguments, string Raw)
    {
        public FunctionCallContent ToContent(ToolCallFormat format) =>
            new(NewCallId(format), Name, Arguments) { RawRepresentation = Raw };
    }

    public sealed record Result(IReadOnlyList<RawCall> Calls, int End, Status Status, string? Error, int ErrorStart);
}
