using System.Text;
using System.Text.Json;

namespace Infera.Cli.Load;

/// <summary>
/// What one streamed event carries for the load generator: its text (appended to the completion), the token counts when
/// it has them, the end of an Ollama stream, or an error. Read with <see cref="Utf8JsonReader"/> straight from the
/// event's bytes: no document and no string per event besides an error's.
/// </summary>
internal ref struct StreamedEvent
{
    /// <summary>Gets a value indicating whether the event carried text (one output token).</summary>
    public bool HasText { get; private set; }

    /// <summary>Gets the prompt's tokens, when the event reports them.</summary>
    public int? PromptTokens { get; private set; }

    /// <summary>Gets the generated tokens, when the event reports them.</summary>
    public int? OutputTokens { get; private set; }

    /// <summary>Gets a value indicating whether an Ollama stream ends with this line (<c>done: true</c>).</summary>
    public bool Done { get; private set; }

    /// <summary>Gets the error the server sent in the stream, as its JSON text.</summary>
    public string? Error { get; private set; }

    /// <summary>
    /// Reads a <c>/v1/completions</c> chunk (the JSON after <c>data: </c>): <c>choices[0].text</c>, <c>usage</c>'s
    /// <c>prompt_tokens</c> and <c>completion_tokens</c>, and <c>error</c>.
    /// </summary>
    /// <exception cref="JsonException">The bytes are not one JSON object.</exception>
    public static StreamedEvent ReadCompletionChunk(ReadOnlySpan<byte> json, StringBuilder text)
    {
        var result = default(StreamedEvent);
        var reader = StartObject(json);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartArray)
                {
                    result.HasText = ReadFirstChoiceText(ref reader, text);
                }
                else
                {
                    reader.Skip();
                }
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals("prompt_tokens"u8))
                        {
                            reader.Read();
                            result.PromptTokens = reader.GetInt32();
                        }
                        else if (reader.ValueTextEquals("completion_tokens"u8))
                        {
                            reader.Read();
                            result.OutputTokens = reader.GetInt32();
                        }
                        else
                        {
                            reader.Read();
                            reader.Skip();
                        }
                    }
                }
                else
                {
                    reader.Skip();
                }
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                result.Error = ReadRaw(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return result;
    }

    /// <summary>
    /// Reads an <c>/api/generate</c> line: <c>response</c>, <c>done</c>, <c>prompt_eval_count</c>, <c>eval_count</c> and
    /// <c>error</c>.
    /// </summary>
    /// <exception cref="JsonException">The bytes are not one JSON object.</exception>
    public static StreamedEvent ReadOllamaLine(ReadOnlySpan<byte> json, StringBuilder text)
    {
        var result = default(StreamedEvent);
        var reader = StartObject(json);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("response"u8))
            {
                reader.Read();
                result.HasText = reader.TokenType == JsonTokenType.String && AppendString(ref reader, text);
            }
            else if (reader.ValueTextEquals("done"u8))
            {
                reader.Read();
                result.Done = reader.GetBoolean();
            }
            else if (reader.ValueTextEquals("prompt_eval_count"u8))
            {
                reader.Read();
                result.PromptTokens = reader.GetInt32();
            }
            else if (reader.ValueTextEquals("eval_count"u8))
            {
                reader.Read();
                result.OutputTokens = reader.GetInt32();
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                result.Error = ReadRaw(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return result;
    }

    private static Utf8JsonReader StartObject(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A streamed event is not a JSON object.");
        }

        return reader;
    }

    /// <summary>From the array's start: the first element's <c>text</c>, then past the array's end.</summary>
    private static bool ReadFirstChoiceText(ref Utf8JsonReader reader, StringBuilder text)
    {
        var hasText = false;
        if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("text"u8))
                {
                    reader.Read();
                    hasText = reader.TokenType == JsonTokenType.String && AppendString(ref reader, text);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                reader.Skip();
            }
        }

        return hasText;
    }

    /// <summary>Appends the string the reader is on; returns whether it was not empty.</summary>
    private static bool AppendString(ref Utf8JsonReader reader, StringBuilder text)
    {
        // A string's UTF-16 length is at most its escaped UTF-8 length.
        var most = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        Span<char> chars = most <= 256 ? stackalloc char[256] : new char[most];
        var length = reader.CopyString(chars);
        text.Append(chars[..length]);
        return length > 0;
    }

    private static string ReadRaw(ref Utf8JsonReader reader)
    {
        reader.Read();
        using var value = JsonDocument.ParseValue(ref reader);
        return value.RootElement.ToString();
    }
}
