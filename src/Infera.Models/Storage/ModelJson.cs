using System.Text.Json;
using System.Text.Json.Serialization;

namespace Infera.Models;

/// <summary>Source-generated JSON for manifests (no reflection, trimmable).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PreferredObjectCreationHandling = JsonObjectCreationHandling.Populate,
    WriteIndented = true)]
[JsonSerializable(typeof(ModelManifest))]
internal sealed partial class ModelJson : JsonSerializerContext
{
    public static ModelManifest ReadManifest(string path)
    {
        try
        {
            var manifest = JsonSerializer.Deserialize(File.ReadAllBytes(path), Default.ModelManifest);
            return manifest is { Name.Length: > 0, ModelId.Length: > 0 }
                ? manifest
                : throw new ModelLibraryException($"The manifest {path} has no name or model id.");
        }
        catch (JsonException ex)
        {
            throw new ModelLibraryException($"The manifest {path} is not valid JSON ({ex.Message}).", ex);
        }
    }

    public static byte[] Serialize(ModelManifest manifest) => JsonSerializer.SerializeToUtf8Bytes(manifest, Default.ModelManifest);
}
