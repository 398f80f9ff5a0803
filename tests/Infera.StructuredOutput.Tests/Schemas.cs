using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Json.Schema;

namespace Infera.StructuredOutput.Tests;

/// <summary>Random bounded JSON schemas (every value has a bounded length) and validation against them.</summary>
internal static class Schemas
{
    private static readonly string[] Words = ["red", "green", "blue", "cat", "dog", "yes", "no", "tiny", "big", "Lily"];

    public static readonly Gen<JsonObject> Leaf = Gen.OneOf(
        Gen.Int[1, 12].Select(n => new JsonObject { ["type"] = "string", ["maxLength"] = n }),
        Gen.Int[-50, 50].SelectMany(low => Gen.Int[0, 500].Select(width => new JsonObject { ["type"] = "integer", ["minimum"] = low, ["maximum"] = low + width })),
        Gen.Const(0).Select(_ => new JsonObject { ["type"] = "boolean" }),
        Gen.Int[1, 4].SelectMany(n => Gen.Int[0, Words.Length - 1].Array[n]).Select(picks => new JsonObject { ["enum"] = new JsonArray([.. picks.Distinct().Select(i => (JsonNode)Words[i])]) }),
        Gen.Int[1, 3].Select(max => new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["enum"] = new JsonArray("a", "b", "c") }, ["maxItems"] = max }));

    /// <summary>An object schema with one to <paramref name="maxProperties"/> properties, nested up to <paramref name="depth"/> levels.</summary>
    public static Gen<JsonObject> Object(int depth, int maxProperties = 3) =>
        Gen.Int[1, maxProperties].SelectMany(count => (depth > 0 ? Gen.Frequency((3, Leaf), (1, Object(depth - 1, maxProperties))) : Leaf).Array[count])
            .SelectMany(properties => Gen.Bool.Array[properties.Length].Select(required => Build(properties, required)));

    public static bool Validate(string schemaText, string json, out string detail)
    {
        var schema = JsonSchema.FromText(schemaText);
        var result = schema.Evaluate(JsonNode.Parse(json), new EvaluationOptions { OutputFormat = OutputFormat.List });
        detail = result.IsValid ? string.Empty : string.Join("; ", result.Details.Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));
        return result.IsValid;
    }

    public static JsonElement Element(JsonNode node) => JsonDocument.Parse(node.ToJsonString()).RootElement.Clone();

    private static JsonObject Build(JsonObject[] properties, bool[] required)
    {
        var props = new JsonObject();
        var names = new JsonArray();
        for (var i = 0; i < properties.Length; i++)
        {
            var name = "p" + i;
            props[name] = properties[i].DeepClone();
            if (required[i] || i == 0)
            {
                names.Add(name);
            }
        }

        return new JsonObject { ["type"] = "object", ["properties"] = props, ["required"] = names, ["additionalProperties"] = false };
    }
}
