using System.Text.Json.Serialization;

namespace Infera;

/// <summary>Source-generated JSON metadata for the values the tool code serializes (trimming- and AOT-safe).</summary>
[JsonSerializable(typeof(string))]
internal sealed partial class ToolJsonContext : JsonSerializerContext;
