using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Infera.Server;

/// <summary>What a model folder says about itself without loading it: size on disk, a digest, its architecture and chat template.</summary>
internal sealed class ModelFolderInfo
{
    public required string Path { get; init; }

    public required long SizeBytes { get; init; }

    public required DateTimeOffset ModifiedAt { get; init; }

    /// <summary>A SHA-256 over the files' names, sizes and modification times: it changes when any file changes.</summary>
    public required string Digest { get; init; }

    public string Family { get; init; } = "unknown";

    public int? ContextLength { get; init; }

    public int? VocabularySize { get; init; }

    public int? Layers { get; init; }

    public int? HiddenSize { get; init; }

    public int? AttentionHeads { get; init; }

    public int? KeyValueHeads { get; init; }

    public string? ChatTemplate { get; init; }

    /// <summary>Reads the folder; a folder that does not exist or has no <c>genai_config.json</c> gives a description with what is known.</summary>
    public static ModelFolderInfo Read(string path)
    {
        var directory = new DirectoryInfo(path);
        long size = 0;
        var modified = DateTimeOffset.MinValue;
        var digest = new StringBuilder();
        if (directory.Exists)
        {
            foreach (var file in directory.EnumerateFiles("*", SearchOption.AllDirectories).OrderBy(f => f.FullName, StringComparer.Ordinal))
            {
                size += file.Length;
                var time = new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero);
                modified = time > modified ? time : modified;
                digest.Append(System.IO.Path.GetRelativePath(directory.FullName, file.FullName)).Append('\0').Append(file.Length).Append('\0').Append(time.ToUnixTimeMilliseconds()).Append('\n');
            }
        }

        var info = new ModelFolderInfo
        {
            Path = path,
            SizeBytes = size,
            ModifiedAt = modified == DateTimeOffset.MinValue ? DateTimeOffset.UnixEpoch : modified,
            Digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(digest.ToString()))),
        };
        return WithConfig(info, System.IO.Path.Combine(path, "genai_config.json"), System.IO.Path.Combine(path, "tokenizer_config.json"));
    }

    private static ModelFolderInfo WithConfig(ModelFolderInfo info, string configPath, string tokenizerConfigPath)
    {
        string? template = null;
        try
        {
            if (File.Exists(tokenizerConfigPath))
            {
                using var tokenizer = JsonDocument.Parse(File.ReadAllText(tokenizerConfigPath));
                if (tokenizer.RootElement.TryGetProperty("chat_template", out var t) && t.ValueKind == JsonValueKind.String)
                {
                    template = t.GetString();
                }
            }

            if (!File.Exists(configPath))
            {
                return Copy(info, template, null);
            }

            using var config = JsonDocument.Parse(File.ReadAllText(configPath));
            return config.RootElement.TryGetProperty("model", out var model) ? Copy(info, template, model) : Copy(info, template, null);
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            // A damaged folder still lists; loading it reports what is wrong.
            return info;
        }
    }

    private static ModelFolderInfo Copy(ModelFolderInfo info, string? template, JsonElement? model)
    {
        JsonElement decoder = default;
        var hasDecoder = model is { } m && m.TryGetProperty("decoder", out decoder) && decoder.ValueKind == JsonValueKind.Object;
        return new ModelFolderInfo
        {
            Path = info.Path,
            SizeBytes = info.SizeBytes,
            ModifiedAt = info.ModifiedAt,
            Digest = info.Digest,
            ChatTemplate = template,
            Family = model is { } type && type.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "unknown",
            ContextLength = Int(model, "context_length"),
            VocabularySize = Int(model, "vocab_size"),
            Layers = hasDecoder ? Int(decoder, "num_hidden_layers") : null,
            HiddenSize = hasDecoder ? Int(decoder, "hidden_size") : null,
            AttentionHeads = hasDecoder ? Int(decoder, "num_attention_heads") : null,
            KeyValueHeads = hasDecoder ? Int(decoder, "num_key_value_heads") : null,
        };
    }

    private static int? Int(JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var value) && value.TryGetInt32(out var i) ? i : null;
}
