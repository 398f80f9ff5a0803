using System.Text.Json;

namespace Infera.Server;

/// <summary>
/// Thrown while a request body is deserialized (by a converter or a checked setter) when a field's value is wrong; the
/// message is written for the client. System.Text.Json adds the JSON path of the field, which becomes the <c>param</c>.
/// </summary>
internal sealed class JsonFieldException : JsonException
{
    public JsonFieldException(string message, string? relativePath = null)
        : base(message)
    {
        RelativePath = relativePath;
    }

    /// <summary>Gets a path below the field that the converter read (such as <c>.abc</c> for one key of a map), or <see langword="null"/>.</summary>
    public string? RelativePath { get; }
}
