using System.Text.Json;

namespace Infera.ModelBuilder;

/// <summary>
/// Finds the GGUF file of a model pulled with Ollama: its manifest <c>manifests/{host}/{namespace}/{model}/{tag}</c> under
/// <c>$OLLAMA_MODELS</c> (default <c>~/.ollama/models</c>) names the layer of media type
/// <c>application/vnd.ollama.image.model</c>, whose file is <c>blobs/sha256-{hex}</c>. Names follow Ollama's defaults:
/// <c>qwen2.5:0.5b</c> is <c>registry.ollama.ai/library/qwen2.5:0.5b</c>, a missing tag is <c>latest</c>.
/// </summary>
public static class OllamaModelStore
{
    private const string ModelMediaType = "application/vnd.ollama.image.model";

    /// <summary>Gets Ollama's model folder: <c>$OLLAMA_MODELS</c>, else <c>~/.ollama/models</c>.</summary>
    public static string DefaultDirectory
    {
        get
        {
            string? configured = Environment.GetEnvironmentVariable("OLLAMA_MODELS");
            return !string.IsNullOrWhiteSpace(configured)
                ? configured
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ollama", "models");
        }
    }

    /// <summary>Returns the GGUF blob of an Ollama model name, or <see langword="null"/> when no such manifest exists.</summary>
    /// <param name="name">A name such as <c>qwen2.5:0.5b</c>, <c>library/llama3.2</c> or <c>registry.ollama.ai/library/phi3:mini</c>.</param>
    /// <param name="modelsDirectory">Ollama's model folder; <see langword="null"/> means <see cref="DefaultDirectory"/>.</param>
    /// <returns>The blob's full path, or <see langword="null"/>.</returns>
    /// <exception cref="ModelConversionException">The manifest exists but is not valid, has no model layer, or its blob is missing.</exception>
    public static string? FindModelBlob(string name, string? modelsDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!TryParse(name, out var host, out var space, out var model, out var tag))
        {
            return null;
        }

        string root = modelsDirectory ?? DefaultDirectory;
        string manifest = Path.Combine(root, "manifests", host, space, model, tag);
        if (!File.Exists(manifest))
        {
            return null;
        }

        string? digest = null;
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(manifest));
            if (json.RootElement.TryGetProperty("layers", out var layers) && layers.ValueKind == JsonValueKind.Array)
            {
                foreach (var layer in layers.EnumerateArray())
                {
                    if (layer.TryGetProperty("mediaType", out var type) && type.GetString() == ModelMediaType && layer.TryGetProperty("digest", out var d))
                    {
                        digest = d.GetString();
                        break;
                    }
                }
            }
        }
        catch (JsonException e)
        {
            throw new ModelConversionException($"Ollama manifest {manifest} is not valid JSON: {e.Message}", e) { SourcePath = manifest };
        }

        if (digest is null || !digest.StartsWith("sha256:", StringComparison.Ordinal) || digest.Length != 71 || digest.AsSpan(7).ContainsAnyExcept("0123456789abcdef"))
        {
            throw new ModelConversionException($"Ollama manifest {manifest} names no GGUF model layer ({ModelMediaType}).") { SourcePath = manifest };
        }

        string blob = Path.Combine(root, "blobs", digest.Replace(':', '-'));
        if (!File.Exists(blob))
        {
            throw new ModelConversionException($"Ollama model {name}: its blob {blob} is missing.") { SourcePath = blob };
        }

        return blob;
    }

    private static bool TryParse(string name, out string host, out string space, out string model, out string tag)
    {
        host = "registry.ollama.ai";
        space = "library";
        model = string.Empty;
        tag = "latest";
        if (name.Length is 0 or > 256 || name.Contains('\\') || name.Contains("..", StringComparison.Ordinal) || Path.IsPathRooted(name))
        {
            return false;
        }

        string path = name;
        int colon = name.LastIndexOf(':');
        if (colon > name.LastIndexOf('/'))
        {
            tag = name[(colon + 1)..];
            path = name[..colon];
        }

        var parts = path.Split('/');
        switch (parts.Length)
        {
            case 1: model = parts[0]; break;
            case 2: space = parts[0]; model = parts[1]; break;
            case 3: host = parts[0]; space = parts[1]; model = parts[2]; break;
            default: return false;
        }

        return new[] { host, space, model, tag }.All(p => p.Length > 0 && p.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'));
    }
}
