using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Infera.Server;

/// <summary>Reads <c>logit_bias</c>: an object whose keys are token ids and whose values are biases between -100 and 100.</summary>
internal sealed class LogitBiasConverter : JsonConverter<Dictionary<int, float>>
{
    public override Dictionary<int, float>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonFieldException("logit_bias must be an object that maps token ids to biases between -100 and 100.");
        }

        var result = new Dictionary<int, float>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var key = reader.GetString()!;
            var at = key.Length > 0 && key.All(char.IsAsciiLetterOrDigit) ? "." + key : "['" + key + "']";
            if (!int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var tokenId))
            {
                throw new JsonFieldException($"logit_bias keys must be token ids (non-negative integers); '{key}' is not one.", at);
            }

            reader.Read();
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetSingle(out var bias) || !(bias is >= -100f and <= 100f))
            {
                throw new JsonFieldException($"logit_bias values must be numbers between -100 and 100 (token id {tokenId}).", at);
            }

            result[tokenId] = bias;
        }

        return result;
    }

    public override void Write(Utf8JsonWriter writer, Dictionary<int, float> value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStartObject();
        foreach (var (tokenId, bias) in value)
        {
            writer.WriteNumber(tokenId.ToString(CultureInfo.InvariantCulture), bias);
        }

        writer.WriteEndObject();
    }
}
