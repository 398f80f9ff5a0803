using System.Collections.Frozen;
using System.Security.Cryptography;

namespace Infera.Server;

/// <summary>One file of the chat page, embedded in this assembly: its bytes, content type and entity tag.</summary>
internal sealed class ChatPageAsset
{
    private const string ResourcePrefix = "Infera.Server.ChatPage.";

    private static readonly Lazy<FrozenDictionary<string, ChatPageAsset>> All = new(Load);

    private ChatPageAsset(string name, string contentType, byte[] content)
    {
        Name = name;
        ContentType = contentType;
        Content = content;
        ETag = "\"" + Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 12)) + "\"";
    }

    public string Name { get; }

    public string ContentType { get; }

    public byte[] Content { get; }

    public string ETag { get; }

    /// <summary>Gets the page itself, <c>index.html</c>.</summary>
    public static ChatPageAsset Page => All.Value["index.html"];

    /// <summary>Finds a file by name (<c>app.js</c>, <c>app.css</c>, ...); only the page's own files are found.</summary>
    public static ChatPageAsset? Find(string? name) => name is not null && All.Value.TryGetValue(name, out var asset) ? asset : null;

    private static FrozenDictionary<string, ChatPageAsset> Load()
    {
        var assembly = typeof(ChatPageAsset).Assembly;
        var assets = new Dictionary<string, ChatPageAsset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var name = resource[ResourcePrefix.Length..];
            using var stream = assembly.GetManifestResourceStream(resource)!;
            var content = new byte[stream.Length];
            stream.ReadExactly(content);
            assets[name] = new ChatPageAsset(name, ContentTypeOf(name), content);
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
