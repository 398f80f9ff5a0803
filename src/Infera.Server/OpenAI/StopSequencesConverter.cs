using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Infera.Server;

/// <summary>Reads <c>stop</c>, which OpenAI accepts as one string or an array of strings.</summary>
internal sealed class StopSequencesConverter : JsonConverter<List<string>>
{
    public override List<string>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
                return [reader.GetString()!];
            case JsonTokenType.StartArray:
                var list = new List<string>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        throw new JsonFieldException("stop must be a string or an array of strings.", string.Create(CultureInfo.InvariantCulture, $"[{list.Count}]"));
                    }

                    list.Add(reader.GetString()!);
                }

                return list;
            default:
                throw new JsonFieldException("stop must be a string or an array of strings.");
        }
    }

    public override void Write(Utf8JsonWriter writer, List<string> value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStartArray();
        foreach (var item in value)
        {
            writer.WriteStringValue(item);
        }

        writer.WriteEndArray();
    }
}
