using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Infera.Server;

/// <summary>
/// Reads request bodies so that every wrong field is the client's error, named by its JSON path: malformed JSON, a
/// value of the wrong JSON type (described from the contract: "max_tokens must be an integer"), and a number outside the
/// <see cref="RangeAttribute"/> on its property (checked while the body is read) all become a
/// <see cref="RequestValidationException"/>. Use <see cref="CreateOptions"/> over any API's source-generated context.
/// </summary>
internal static class RequestJson
{
    /// <summary>Options over a source-generated context whose contracts check the <see cref="RangeAttribute"/> of every property as it is set.</summary>
    public static JsonSerializerOptions CreateOptions(JsonSerializerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = new JsonSerializerOptions(context.Options)
        {
            TypeInfoResolver = ((IJsonTypeInfoResolver)context).WithAddedModifier(CheckRanges),
        };
        options.MakeReadOnly();
        return options;
    }

    /// <summary>Deserializes a body; throws <see cref="RequestValidationException"/> for anything wrong with it.</summary>
    public static T Deserialize<T>(ReadOnlySpan<byte> body, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        try
        {
            return JsonSerializer.Deserialize(body, typeInfo)
                ?? throw new RequestValidationException("The request body must be a JSON object, not null.", null);
        }
        catch (JsonException ex)
        {
            throw ToValidationError(ex, typeInfo);
        }
    }

    internal static RequestValidationException ToValidationError(JsonException exception, JsonTypeInfo root)
    {
        var path = Param(exception.Path);
        if (exception is JsonFieldException field)
        {
            return new RequestValidationException(field.Message, path + field.RelativePath);
        }

        if (exception.InnerException is JsonException syntax)
        {
            // System.Text.Json wraps the reader's error, which says what is wrong with the text and where.
            return new RequestValidationException("The request body is not valid JSON: " + WithoutPosition(syntax.Message), path);
        }

        if (path is null)
        {
            return new RequestValidationException("The request body must be a JSON object.", null);
        }

        return ExpectedType(root, path) is { } expected
            ? new RequestValidationException($"{path} must be {expected}.", path)
            : new RequestValidationException($"{path} has the wrong type or shape.", path);
    }

    /// <summary>"$.messages[0].content" -> "messages[0].content"; "$" or nothing -> null.</summary>
    private static string? Param(string? jsonPath) =>
        string.IsNullOrEmpty(jsonPath) || jsonPath == "$" ? null
        : jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..]
        : jsonPath.StartsWith('$') ? jsonPath[1..]
        : jsonPath;

    private static string WithoutPosition(string message)
    {
        foreach (var marker in (ReadOnlySpan<string>)[" Path: ", " LineNumber: "])
        {
            var cut = message.IndexOf(marker, StringComparison.Ordinal);
            if (cut >= 0)
            {
                message = message[..cut];
            }
        }

        // The reader's advice is for the server's code, not the client.
        var advice = message.IndexOf(". Change the reader options", StringComparison.Ordinal);
        message = advice >= 0 ? message[..advice] : message;
        return message.TrimEnd().TrimEnd('.', ' ', '|');
    }

    /// <summary>What the contract expects at a path, in words ("an integer", "an array"), or <see langword="null"/> when the path leaves the contract.</summary>
    private static string? ExpectedType(JsonTypeInfo root, string path)
    {
        var info = root;
        foreach (var segment in Segments(path))
        {
            switch (info.Kind)
            {
                case JsonTypeInfoKind.Object when segment is string name:
                    var property = info.Properties.FirstOrDefault(p => p.Name == name);
                    if (property is null)
                    {
                        return null;
                    }

                    info = info.Options.GetTypeInfo(property.PropertyType);
                    break;
                case JsonTypeInfoKind.Enumerable when segment is int:
                case JsonTypeInfoKind.Dictionary when segment is string:
                    info = info.Options.GetTypeInfo(info.ElementType!);
                    break;
                default:
                    return null;
            }
        }

        return Describe(info);
    }

    private static string Describe(JsonTypeInfo info)
    {
        var type = Nullable.GetUnderlyingType(info.Type) ?? info.Type;
        return type switch
        {
            _ when type == typeof(float) || type == typeof(double) || type == typeof(decimal) => "a number",
            _ when type == typeof(int) => "an integer between -2147483648 and 2147483647",
            _ when type == typeof(long) => "an integer between -9223372036854775808 and 9223372036854775807",
            _ when type == typeof(bool) => "a boolean",
            _ when type == typeof(string) => "a string",
            _ when type == typeof(JsonElement) => "a JSON value",
            _ => info.Kind switch
            {
                JsonTypeInfoKind.Enumerable => "an array",
                JsonTypeInfoKind.Dictionary or JsonTypeInfoKind.Object => "an object",
                _ => "a value of another type",
            },
        };
    }

    /// <summary>Splits <c>a.b[0]['c.d']</c> into "a", "b", 0, "c.d".</summary>
    private static List<object> Segments(string path)
    {
        var segments = new List<object>();
        var i = 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                i++;
            }
            else if (path[i] == '[' && i + 1 < path.Length && path[i + 1] == '\'')
            {
                var end = path.IndexOf("']", i + 2, StringComparison.Ordinal);
                end = end < 0 ? path.Length : end;
                segments.Add(path[(i + 2)..end]);
                i = end + 2;
            }
            else if (path[i] == '[')
            {
                var end = path.IndexOf(']', i);
                end = end < 0 ? path.Length : end;
                segments.Add(int.TryParse(path.AsSpan(i + 1, end - i - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : -1);
                i = end + 1;
            }
            else
            {
                var end = path.IndexOfAny(['.', '['], i);
                end = end < 0 ? path.Length : end;
                segments.Add(path[i..end]);
                i = end;
            }
        }

        return segments;
    }

    /// <summary>Wraps the setter of every property with a <see cref="RangeAttribute"/> so that a value out of range fails while the body is read, with the field's path.</summary>
    private static void CheckRanges(JsonTypeInfo typeInfo)
    {
        if (typeInfo.Kind != JsonTypeInfoKind.Object)
        {
            return;
        }

        foreach (var property in typeInfo.Properties)
        {
            if (property.Set is not { } set
                || property.AttributeProvider?.GetCustomAttributes(typeof(RangeAttribute), inherit: false) is not [RangeAttribute range, ..])
            {
                continue;
            }

            var name = property.Name;
            var minimum = Convert.ToDouble(range.Minimum, CultureInfo.InvariantCulture);
            var maximum = Convert.ToDouble(range.Maximum, CultureInfo.InvariantCulture);
            property.Set = (target, value) =>
            {
                if (value is not null)
                {
                    var number = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                    var tooLow = range.MinimumIsExclusive ? !(number > minimum) : !(number >= minimum);
                    var tooHigh = range.MaximumIsExclusive ? !(number < maximum) : !(number <= maximum);
                    if (tooLow || tooHigh)
                    {
                        throw new JsonFieldException(string.Create(CultureInfo.InvariantCulture, $"{name} must be {Rule(range, minimum, maximum)}; it was {value}."));
                    }
                }

                set(target, value);
            };
        }
    }

    private static string Rule(RangeAttribute range, double minimum, double maximum)
    {
        var unbounded = maximum >= int.MaxValue;
        var text = new StringBuilder();
        if (unbounded)
        {
            text.Append(range.MinimumIsExclusive ? "greater than " : "at least ").Append(minimum.ToString(CultureInfo.InvariantCulture));
        }
        else if (range.MinimumIsExclusive || range.MaximumIsExclusive)
        {
            text.Append(range.MinimumIsExclusive ? "greater than " : "at least ").Append(minimum.ToString(CultureInfo.InvariantCulture))
                .Append(range.MaximumIsExclusive ? " and less than " : " and at most ").Append(maximum.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            text.Append("between ").Append(minimum.ToString(CultureInfo.InvariantCulture)).Append(" and ").Append(maximum.ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }
}
