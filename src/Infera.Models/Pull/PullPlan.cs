using Infera.ModelBuilder;

namespace Infera.Models;

/// <summary>What a pull downloads and how it becomes runnable.</summary>
internal sealed record PullPlan(string Format, string? Subfolder, IReadOnlyList<HuggingFaceRepositoryFile> Files, ModelPrecision? Precision)
{
    public const string OnnxGenAI = "onnxruntime-genai";
    public const string Safetensors = "safetensors";
    public const string Gguf = "gguf";

    private static readonly string[] SafetensorsCompanions =
    [
        "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
        "tokenizer.model", "vocab.json", "merges.txt", "added_tokens.json", "model.safetensors.index.json",
    ];

    /// <summary>Picks the files of a repository to pull: an ONNX Runtime GenAI folder (the CPU one), else safetensors with their config and tokenizer, else one GGUF file.</summary>
    public static PullPlan Create(HuggingFaceRepository repository, ModelPullOptions options)
    {
        IEnumerable<HuggingFaceRepositoryFile> files = repository.Files;
        Glob? include = options.Include is { Length: > 0 } pattern ? new Glob(pattern) : null;

        // ONNX Runtime GenAI folders: every folder holding a genai_config.json.
        var genAIFolders = files.Where(f => f.Path == "genai_config.json" || f.Path.EndsWith("/genai_config.json", StringComparison.Ordinal))
            .Select(f => f.Path.Length == "genai_config.json".Length ? string.Empty : f.Path[..^"/genai_config.json".Length])
            .ToList();
        if (include is not null)
        {
            genAIFolders = genAIFolders.Where(folder => include.IsMatch(folder.Length == 0 ? "genai_config.json" : folder) || files.Any(f => InFolder(f.Path, folder) && include.IsMatch(f.Path))).ToList();
        }

        if (genAIFolders.Count > 0)
        {
            var folder = genAIFolders.OrderByDescending(f => Score(f, options.Precision)).ThenBy(f => f.Length).ThenBy(f => f, StringComparer.Ordinal).First();
            var chosen = files.Where(f => InFolder(f.Path, folder)).ToList();
            return new PullPlan(OnnxGenAI, folder.Length == 0 ? null : folder, chosen, PrecisionFromName(folder) ?? options.Precision);
        }

        var candidates = include is null ? files.ToList() : files.Where(f => include.IsMatch(f.Path)).ToList();
        var safetensors = candidates.Where(f => !f.Path.Contains('/', StringComparison.Ordinal) && f.Path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)).ToList();
        if (safetensors.Count > 0 && files.Any(f => f.Path == "config.json"))
        {
            var chosen = safetensors.Concat(files.Where(f => SafetensorsCompanions.Contains(f.Path, StringComparer.Ordinal) || (!f.Path.Contains('/', StringComparison.Ordinal) && f.Path.StartsWith("LICENSE", StringComparison.OrdinalIgnoreCase)))).DistinctBy(f => f.Path).ToList();
            return new PullPlan(Safetensors, null, chosen, options.Precision);
        }

        var ggufs = candidates.Where(f => f.Path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)).ToList();
        if (ggufs.Count > 0)
        {
            var gguf = ggufs.OrderByDescending(f => GgufScore(f.Path, options.Precision)).ThenBy(f => f.Size ?? long.MaxValue).ThenBy(f => f.Path, StringComparer.Ordinal).First();
            return new PullPlan(Gguf, null, [gguf], options.Precision);
        }

        var listed = string.Join(", ", repository.Files.Take(12).Select(f => f.Path)) + (repository.Files.Count > 12 ? ", ..." : string.Empty);
        throw new ModelLibraryException(
            $"'{repository.Id}' at {repository.Commit[..12]} has no files Infera can run{(options.Include is null ? string.Empty : $" matching --include '{options.Include}'")}: it needs an ONNX Runtime GenAI folder (genai_config.json), safetensors with config.json, or a GGUF file. Files: {(listed.Length == 0 ? "none" : listed)}.");
    }

    public static ModelPrecision? PrecisionFromName(string name)
    {
        var lower = name.ToLowerInvariant();
        return lower.Contains("int4", StringComparison.Ordinal) || lower.Contains("q4", StringComparison.Ordinal) ? ModelPrecision.Int4
            : lower.Contains("int8", StringComparison.Ordinal) || lower.Contains("q8", StringComparison.Ordinal) ? ModelPrecision.Int8
            : lower.Contains("fp16", StringComparison.Ordinal) || lower.Contains("f16", StringComparison.Ordinal) ? ModelPrecision.Float16
            : lower.Contains("fp32", StringComparison.Ordinal) || lower.Contains("f32", StringComparison.Ordinal) ? ModelPrecision.Float32
            : null;
    }

    public static string PrecisionName(ModelPrecision precision) => precision switch
    {
        ModelPrecision.Int4 => "int4",
        ModelPrecision.Int8 => "int8",
        ModelPrecision.Float16 => "fp16",
        _ => "fp32",
    };

    private static bool InFolder(string path, string folder) =>
        folder.Length == 0 ? !path.Contains('/', StringComparison.Ordinal) : path.StartsWith(folder + "/", StringComparison.Ordinal);

    private static int Score(string folder, ModelPrecision? precision)
    {
        var lower = folder.ToLowerInvariant();
        int score = 0;
        if (lower.Contains("cpu", StringComparison.Ordinal))
        {
            score += 10;
        }

        if (lower.Contains("cuda", StringComparison.Ordinal) || lower.Contains("dml", StringComparison.Ordinal) || lower.Contains("directml", StringComparison.Ordinal) || lower.Contains("gpu", StringComparison.Ordinal) || lower.Contains("webgpu", StringComparison.Ordinal))
        {
            score -= 10;
        }

        if (PrecisionFromName(folder) == (precision ?? ModelPrecision.Int4))
        {
            score += 5;
        }

        if (lower.Contains("acc-level-4", StringComparison.Ordinal))
        {
            score += 1;
        }

        return score;
    }

    private static int GgufScore(string path, ModelPrecision? precision)
    {
        var lower = Path.GetFileName(path).ToLowerInvariant();
        if (System.Text.RegularExpressions.Regex.IsMatch(lower, @"-\d{5}-of-\d{5}\.gguf$"))
        {
            return -100;
        }

        return precision switch
        {
            ModelPrecision.Float32 => lower.Contains("f32", StringComparison.Ordinal) ? 10 : 0,
            ModelPrecision.Float16 => lower.Contains("f16", StringComparison.Ordinal) ? 10 : 0,
            ModelPrecision.Int8 => lower.Contains("q8_0", StringComparison.Ordinal) ? 10 : 0,
            _ => lower.Contains("q4_k_m", StringComparison.Ordinal) ? 10 : lower.Contains("q4_0", StringComparison.Ordinal) ? 9 : lower.Contains("q4", StringComparison.Ordinal) ? 8 : lower.Contains("q8_0", StringComparison.Ordinal) ? 5 : 0,
        };
    }
}
