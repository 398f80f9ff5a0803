using System.Text.Json.Nodes;
using Json.Schema;

namespace Infera.Server.Tests;

/// <summary>Parses a reply and validates it against a JSON Schema, failing the test with what was wrong.</summary>
internal static class JsonValidation
{
    public static JsonNode AssertValid(string schemaText, string json)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new Xunit.Sdk.XunitException($"The reply is not JSON ({ex.Message}): {json}");
        }

        var result = JsonSchema.FromText(schemaText).Evaluate(node, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (!result.IsValid)
        {
            var detail = string.Join("; ", result.Details.Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));
            throw new Xunit.Sdk.XunitException($"The reply does not validate ({detail}): {json}");
        }

        return node!;
    }
}
