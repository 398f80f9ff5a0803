using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Infera.Models;

namespace Infera.Cli;

/// <summary>
/// The JSON the tool writes (<c>--json</c> documents, request bodies of the load client), serialized from
/// source-generated metadata: no reflection, so the natively compiled tool writes the same JSON as the portable one.
/// </summary>
internal static class CliJson
{
    /// <summary>One line, as the machine-readable outputs are written.</summary>
    public static readonly JsonSerializerOptions Compact = new() { TypeInfoResolver = CliJsonContext.Default };

    /// <summary>Indented, characters kept as they are (model names, chat templates), for documents people read.</summary>
    public static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = CliJsonContext.Default,
    };

    /// <summary>Serializes <paramref name="value"/> with <see cref="Compact"/> unless other options are given.</summary>
    public static string Serialize<T>(T value, JsonSerializerOptions? options = null) =>
        JsonSerializer.Serialize(value, (JsonTypeInfo<T>)(options ?? Compact).GetTypeInfo(typeof(T)));
}

/// <summary>Every type the tool's JSON holds, values of <c>object</c>-typed entries included.</summary>
[JsonSerializable(typeof(Dictionary<string, object?>))]
[JsonSerializable(typeof(Dictionary<string, object?>[]))]
[JsonSerializable(typeof(Dictionary<string, object>))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(float))]
[JsonSerializable(typeof(double))]
[JsonSerializable(typeof(DateTime))]
[JsonSerializable(typeof(DateTimeOffset))]
[JsonSerializable(typeof(int[]))]
[JsonSerializable(typeof(long[]))]
[JsonSerializable(typeof(double[]))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(ModelManifest))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
