using System.Text;
using System.Text.Json;

namespace Infera.Cli.Load;

/// <summary>
/// What one streamed event carries for the load generator: whether it carried text (appended to the completion), the
/// token counts when it has them, the end of the stream, or an error. Read with <see cref="Utf8JsonReader"/> straight
/// from the event's bytes: no document and no string per event besides an error's.
/// </summary>
/// <param name="HasText">Whether the event carried text (one output token).</param>
/// <param name="PromptTokens">The prompt's tokens, when the event reports them.</param>
/// <param name="OutputTokens">The generated tokens, when the event reports them.</param>
/// <param name="Done">Whether the stream ends with this event (<c>data: [DONE]</c>, or Ollama's <c>done: true</c>).</param>
/// <param name="Error">The error the server sent in the stream, as its JSON text.</param>
internal readonly record struct StreamedEvent(bool HasText, int? PromptTokens, int? OutputTokens, bool Done, string? Error)
{
    /// <summary>Gets the event that ends an OpenAI stream (<c>data: [DONE]</c>).</summary>
    public static StreamedEvent End => new(false, null, null, true, null);

    /// <summary>
    /// Reads one event of either protocol: a <c>/v1/completions</c> chunk (<c>choices[0].text</c>, <c>usage</c>'s
    /// <c>prompt_tokens</c> and <c>completion_tokens</c>) or an <c>/api/generate</c> line (<c>response</c>, <c>done</c>,
    /// <c>prompt_eval_count</c>, <c>eval_count</c>), and <c>error</c> in both. Text goes to <paramref name="text"/>.
    /// </summary>
    /// <exception cref="JsonException">The bytes are not one JSON object.</exception>
    public static StreamedEvent Read(ReadOnlySpan<byte> json, StringBuilder text)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A streamed event is not a JSON object.");
        }

        var hasText = false;
        var done = false;
        int? promptTokens = null, outputTokens = null;
        string? error = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                hasText = ReadFirstChoiceText(ref reader, text);
            }
            else if (reader.ValueTextEquals("response"u8))
            {
                reader.Read();
                hasText = AppendString(ref reader, text);
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("prompt_tokens"u8))
                    {
                        promptTokens = ReadInt32(ref reader);
                    }
                    else if (reader.ValueTextEquals("completion_tokens"u8))
                    {
                        outputTokens = ReadInt32(ref reader);
                    }
                    else
                    {
                        SkipValue(ref reader);
                    }
                }
            }
            else if (reader.ValueTextEquals("prompt_eval_count"u8))
            {
                promptTokens = ReadInt32(ref reader);
            }
            else if (reader.ValueTextEquals("eval_count"u8))
            {
                outputTokens = ReadInt32(ref reader);
            }
            else if (reader.ValueTextEquals("done"u8))
            {
                reader.Read();
                done = reader.GetBoolean();
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                using var value = JsonDocument.ParseValue(ref reader);
                error = value.RootElement.ToString();
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        return new StreamedEvent(hasText, promptTokens, outputTokens, done, error);
    }

    /// <summary>From the value of <c>choices</c>: the first element's <c>text</c>, then past the array's end.</summary>
    private static bool ReadFirstChoiceText(ref Utf8JsonReader reader, StringBuilder text)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return false;
        }

        var hasText = false;
        if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("text"u8))
                {
                    reader.Read();
                    hasText = AppendString(ref reader, text);
                }
                else
                {
                    SkipValue(ref reader);
                }
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                reader.Skip();
            }
        }

        return hasText;
    }

    /// <summary>Appends the string the reader is on (nothing for another value); returns whether it was not empty.</summary>
    private static bool AppendString(ref Utf8JsonReader reader, StringBuilder text)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return false;
        }

        // A string's UTF-16 length is at most its escaped UTF-8 length.
        var most = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        Span<char> chars = most <= 256 ? stackalloc char[256] : new char[most];
        var length = reader.CopyString(chars);
        text.Append(chars[..length]);
        return length > 0;
    }

    /// <summary>From a property name: its value as a 32-bit integer.</summary>
    private static int ReadInt32(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.GetInt32();
    }

    /// <summary>From a property name: past its value.</summary>
    private static void SkipValue(ref Utf8JsonReader reader)
    {
        reader.Read();
        reader.Skip();
    }
}
