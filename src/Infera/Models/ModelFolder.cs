using System.Text.Json;

namespace Infera;

/// <summary>Reads and checks an ONNX Runtime GenAI model folder before the native runtime sees it, so that a bad folder gets a clear error.</summary>
internal sealed class ModelFolder
{
    private ModelFolder(string path, JsonElement config, string modelType, int contextLength, int vocabularySize, string decoderFile)
    {
        Path = path;
        Config = config;
        ModelType = modelType;
        ContextLength = contextLength;
        VocabularySize = vocabularySize;
        DecoderFile = decoderFile;
    }

    public string Path { get; }

    public JsonElement Config { get; }

    public string ModelType { get; }

    public int ContextLength { get; }

    public int VocabularySize { get; }

    public string DecoderFile { get; }

    public string Name => System.IO.Path.GetFileName(Path.TrimEnd(System.IO.Path.DirectorySeparatorChar, System.IO.Path.AltDirectorySeparatorChar));

    public static ModelFolder Open(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = System.IO.Path.GetFullPath(path);
        if (!Directory.Exists(full))
        {
            throw Fail(full, File.Exists(full)
                ? $"'{full}' is a file; a model is a folder holding genai_config.json and the ONNX model."
                : $"The model folder '{full}' does not exist.");
        }

        var configPath = System.IO.Path.Combine(full, "genai_config.json");
        if (!File.Exists(configPath))
        {
            throw Fail(full, $"The model folder '{full}' has no genai_config.json. Is it an ONNX Runtime GenAI model folder?");
        }

        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(configPath), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            root = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw Fail(full, $"genai_config.json in '{full}' is not valid JSON: {ex.Message}", ex);
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
        {
            throw Fail(full, $"genai_config.json in '{full}' has no \"model\" object.");
        }

        var type = model.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : throw Fail(full, $"genai_config.json in '{full}' has no model.type.");
        var context = ReadPositiveInt(full, model, "context_length");
        var vocab = ReadPositiveInt(full, model, "vocab_size");

        var decoderFile = model.TryGetProperty("decoder", out var decoder) && decoder.TryGetProperty("filename", out var f) && f.ValueKind == JsonValueKind.String
            ? f.GetString()!
            : throw Fail(full, $"genai_config.json in '{full}' has no model.decoder.filename.");
        var decoderPath = System.IO.Path.Combine(full, decoderFile);
        if (!File.Exists(decoderPath))
        {
            throw Fail(full, $"The model file '{decoderFile}' named by genai_config.json is missing from '{full}'.");
        }

        if (new FileInfo(decoderPath).Length < 16)
        {
            throw Fail(full, $"The model file '{decoderPath}' is empty or truncated.");
        }

        if (!File.Exists(System.IO.Path.Combine(full, "tokenizer.json")) && !File.Exists(System.IO.Path.Combine(full, "tokenizer_config.json")))
        {
            throw Fail(full, $"The model folder '{full}' has no tokenizer.json.");
        }

        return new ModelFolder(full, root, type, context, vocab, decoderFile);
    }

    public static ModelLoadException Fail(string path, string message, Exception? inner = null) => new(message, inner) { ModelPath = path };

    public int? ReadTokenId(string name)
    {
        var model = Config.GetProperty("model");
        if (!model.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetInt32(out var id) => id,
            JsonValueKind.Array when value.GetArrayLength() > 0 && value[0].TryGetInt32(out var first) => first,
            _ => null,
        };
    }

    public int[] ReadTokenIds(string name)
    {
        var model = Config.GetProperty("model");
        if (!model.TryGetProperty(name, out var value))
        {
            return [];
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetInt32(out var id) => [id],
            JsonValueKind.Array => [.. value.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Number).Select(e => e.GetInt32())],
            _ => [],
        };
    }

    /// <summary>Reads the chat template from tokenizer_config.json: a string, or the "default" entry of a list of named templates.</summary>
    public string? ReadChatTemplate()
    {
        var path = System.IO.Path.Combine(Path, "tokenizer_config.json");
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            if (!document.RootElement.TryGetProperty("chat_template", out var template))
            {
                return null;
            }

            if (template.ValueKind == JsonValueKind.String)
            {
                return template.GetString();
            }

            if (template.ValueKind == JsonValueKind.Array)
            {
                foreach (var entry in template.EnumerateArray())
                {
                    if (entry.TryGetProperty("name", out var name) && name.GetString() == "default" && entry.TryGetProperty("template", out var text))
                    {
                        return text.GetString();
                    }
                }
            }

            return null;
        }
        catch (JsonException ex)
        {
            throw Fail(Path, $"tokenizer_config.json in '{Path}' is not valid JSON: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Reads <c>model.decoder.session_options.intra_op_num_threads</c> from genai_config.json: the thread count the model
    /// folder asks for (written, for example, by the converter's <c>--threads</c>), or <see langword="null"/> when it sets none.
    /// </summary>
    public int? ReadIntraOpThreads()
    {
        if (Config.GetProperty("model").TryGetProperty("decoder", out var decoder)
            && decoder.ValueKind == JsonValueKind.Object
            && decoder.TryGetProperty("session_options", out var session)
            && session.ValueKind == JsonValueKind.Object
            && session.TryGetProperty("intra_op_num_threads", out var threads))
        {
            return threads.ValueKind == JsonValueKind.Number && threads.TryGetInt32(out var n) && n >= 0
                ? n
                : throw Fail(Path, $"genai_config.json in '{Path}' has an intra_op_num_threads that is not a non-negative integer: {threads.GetRawText()}.");
        }

        return null;
    }

    /// <summary>Whether genai_config.json sets <c>model.decoder.session_options.NAME</c>: the model folder's own choice wins.</summary>
    public bool SetsSessionOption(string name) =>
        Config.GetProperty("model").TryGetProperty("decoder", out var decoder)
        && decoder.ValueKind == JsonValueKind.Object
        && decoder.TryGetProperty("session_options", out var session)
        && session.ValueKind == JsonValueKind.Object
        && session.TryGetProperty(name, out _);

    /// <summary>Gets the bytes of the model's graph and weight files (the ONNX files and their external data), a measure of the work per token.</summary>
    public long WeightBytes()
    {
        long total = 0;
        foreach (var file in new DirectoryInfo(Path).EnumerateFiles())
        {
            var name = file.Name;
            if (name.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".onnx.data", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".onnx_data", StringComparison.OrdinalIgnoreCase))
            {
                total += file.Length;
            }
        }

        return total;
    }

    /// <summary>
    /// The decoder graph to load instead of <see cref="DecoderFile"/> on this machine, or <see langword="null"/> for that one.
    /// Infera's converter writes int4 models whose prompts run faster at a different <c>MatMulNBits</c> accuracy level on some
    /// CPUs as two graphs over the same weights: <c>model.onnx</c> (accuracy level 4 throughout: int8 activations, least
    /// memory) and <see cref="FloatPromptsGraphFile"/> (prompts at level 0, float). CPUs without int8 dot-product
    /// instructions get the second.
    /// </summary>
    public string? MachineDecoderFile(bool int8DotProduct)
    {
        if (int8DotProduct || !string.Equals(DecoderFile, "model.onnx", StringComparison.Ordinal))
        {
            return null;
        }

        return File.Exists(System.IO.Path.Combine(Path, FloatPromptsGraphFile)) ? FloatPromptsGraphFile : null;
    }

    /// <summary>The graph with float prompts beside <c>model.onnx</c> (the name Infera.ModelBuilder writes).</summary>
    public const string FloatPromptsGraphFile = "model.fp32-prompts.onnx";

    /// <summary>
    /// Whether the decoder's logits output is declared [batch, 1, vocabulary]: the graph computes only each row's last
    /// position, and ONNX Runtime GenAI's generator binds one position for prompts too. GenAI's Engine binds every position
    /// of a prompt, which such a graph cannot fill.
    /// </summary>
    public bool HasLastPositionLogitsOnly()
    {
        var name = Config.GetProperty("model").TryGetProperty("decoder", out var decoder) && decoder.TryGetProperty("outputs", out var outputs)
            && outputs.TryGetProperty("logits", out var logits) && logits.ValueKind == JsonValueKind.String ? logits.GetString()! : "logits";
        var dims = GraphOutputShape.Read(System.IO.Path.Combine(Path, DecoderFile), name);
        return dims is { Length: 3 } && dims[1] == 1;
    }

    /// <summary>Finds which attention operator the decoder graph uses by scanning the graph file for operator names.</summary>
    public string? DetectAttentionOperator()
    {
        ReadOnlySpan<string> candidates = ["GroupQueryAttention", "PagedAttention", "MultiHeadAttention"];
        var path = System.IO.Path.Combine(Path, DecoderFile);
        var found = GraphScanner.FindFirst(path, candidates);
        return found;
    }

    private static int ReadPositiveInt(string path, JsonElement model, string name)
    {
        if (!model.TryGetProperty(name, out var value) || !value.TryGetInt32(out var number) || number <= 0)
        {
            throw Fail(path, $"genai_config.json in '{path}' has no positive model.{name}.");
        }

        return number;
    }
}
