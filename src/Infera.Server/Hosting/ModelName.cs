namespace Infera.Server;

/// <summary>Model names as Ollama writes them: <c>name:tag</c>, where a name without a tag means <c>name:latest</c>.</summary>
internal static class ModelName
{
    public const string DefaultTag = "latest";

    /// <summary>Returns the name with its tag: <c>llama</c> becomes <c>llama:latest</c>; a name that has a tag is returned as it is.</summary>
    public static string Normalize(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var trimmed = name.Trim();

        // A tag follows the last ':' of the last path segment ("host:port/org/name" has no tag).
        var slash = trimmed.LastIndexOf('/');
        var colon = trimmed.LastIndexOf(':');
        return colon > slash && colon < trimmed.Length - 1 ? trimmed : trimmed.TrimEnd(':') + ":" + DefaultTag;
    }

    /// <summary>Whether two names denote the same model once <c>:latest</c> is implied.</summary>
    public static bool SameModel(string a, string b) => string.Equals(Normalize(a), Normalize(b), StringComparison.Ordinal);
}
