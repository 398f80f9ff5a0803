using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Infera.ModelBuilder;

/// <summary>
/// Imports GGUF files into Infera's model cache once and returns the cached ONNX Runtime GenAI folder: the one place every
/// caller (the CLI's <c>--model FILE.gguf</c>, <c>InferaChatClient.LoadAsync("x.gguf")</c> through
/// <see cref="RegisterModelSource"/>, a model library) goes through.
/// </summary>
/// <remarks>
/// <para>
/// The cache key is the SHA-256 of the file's bytes (an Ollama blob's name is already its SHA-256 and is used as it is) and
/// the precision: an unchanged file is never imported twice, whatever its path, and a changed one is imported again. The
/// hash of a file is remembered beside the cache by path, size and last-write time, so a later run does not read the file
/// again. The cache folder is <c>{cache}/gguf/{first 32 hex digits}-{precision}</c>, written atomically; a failed or
/// canceled import leaves no entry.
/// </para>
/// <para>Methods are thread-safe; concurrent imports of the same file in one process share one import.</para>
/// </remarks>
public static class GgufImporter
{
    private const string ManifestFile = "infera_model.json";
    private static readonly ConcurrentDictionary<string, Lazy<Task<string>>> InFlight = new(StringComparer.Ordinal);
    private static readonly Resolver SharedResolver = new();

    /// <summary>
    /// Registers the GGUF/Ollama resolver with <see cref="ModelSources"/>, so that model loading (<c>InferaChatClient.LoadAsync</c>,
    /// <c>OnnxModelRunner.LoadAsync</c>) accepts GGUF files and Ollama names. Registering again only replaces the options.
    /// </summary>
    /// <param name="options">The import options the resolver uses, or <see langword="null"/> for the defaults.</param>
    public static void RegisterModelSource(GgufImportOptions? options = null)
    {
        SharedResolver.Options = options;
        ModelSources.Register(SharedResolver);
    }

    /// <summary>Returns whether <paramref name="path"/> is a file that starts with the GGUF magic.</summary>
    /// <param name="path">The path.</param>
    /// <returns><see langword="true"/> for a GGUF file.</returns>
    public static bool IsGgufFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            return false;
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
            Span<byte> magic = stackalloc byte[4];
            return stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && BitConverter.ToUInt32(magic) == GgufFile.Magic;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Returns the model folder for a GGUF path or an Ollama model name, importing it first if needed; <see langword="null"/> when <paramref name="model"/> is neither.</summary>
    /// <param name="model">A <c>.gguf</c> file (or any file with the GGUF magic) or an Ollama name such as <c>qwen2.5:0.5b</c>.</param>
    /// <param name="options">The import options, or <see langword="null"/> for the defaults.</param>
    /// <param name="progress">Receives the fraction done of an import, from 0 to 1.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>The cached model folder, or <see langword="null"/>.</returns>
    /// <exception cref="ModelConversionException">The file cannot be imported (see <see cref="ModelConverter.ConvertGgufAsync"/>).</exception>
    public static async Task<string?> ResolveAsync(string model, GgufImportOptions? options = null, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (Directory.Exists(model))
        {
            return null;
        }

        string? file = null;
        if (File.Exists(model))
        {
            if (model.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) || IsGgufFile(model))
            {
                file = model;
            }
        }
        else
        {
            file = OllamaModelStore.FindModelBlob(model, options?.OllamaModelsDirectory);
        }

        return file is null ? null : await ImportAsync(file, options, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Imports a GGUF file into the model cache unless it is there already, and returns the cached folder.</summary>
    /// <param name="ggufPath">The GGUF file.</param>
    /// <param name="options">The import options, or <see langword="null"/> for the defaults.</param>
    /// <param name="progress">Receives the fraction done, from 0 to 1.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>The full path of the cached model folder.</returns>
    /// <exception cref="ModelConversionException">The file cannot be imported; nothing is left in the cache.</exception>
    public static async Task<string> ImportAsync(string ggufPath, GgufImportOptions? options = null, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ggufPath);
        options ??= new GgufImportOptions();
        var conversion = options.Conversion ?? new ConversionOptions { Precision = ModelPrecision.Keep };
        conversion.Validate();
        string full = Path.GetFullPath(ggufPath);
        if (!File.Exists(full))
        {
            throw new ModelConversionException($"GGUF file not found: {ggufPath}.") { SourcePath = ggufPath };
        }

        string root = Path.Combine(options.CacheDirectory ?? DefaultModel.DefaultCacheDirectory(), "gguf");
        string key = await ContentKeyAsync(full, root, cancellationToken).ConfigureAwait(false);
        string folder = Path.Combine(root, $"{key[..32]}-{conversion.Precision.ToString().ToLowerInvariant()}");
        if (IsComplete(folder))
        {
            progress?.Report(1.0);
            return folder;
        }

        var import = InFlight.GetOrAdd(folder, f => new Lazy<Task<string>>(() => ImportCoreAsync(full, f, key, conversion, progress, cancellationToken)));
        try
        {
            return await import.Value.ConfigureAwait(false);
        }
        finally
        {
            InFlight.TryRemove(new KeyValuePair<string, Lazy<Task<string>>>(folder, import));
        }
    }

    /// <summary>Returns the content key of a GGUF file: the lowercase hex SHA-256 of its bytes (for an Ollama blob, the one its name states).</summary>
    /// <param name="path">The file.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>64 hex digits.</returns>
    public static Task<string> ComputeContentKeyAsync(string path, CancellationToken cancellationToken = default) =>
        ContentKeyAsync(Path.GetFullPath(path), null, cancellationToken);

    private static async Task<string> ImportCoreAsync(string file, string folder, string key, ConversionOptions conversion, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        var options = new ConversionOptions
        {
            Precision = conversion.Precision,
            GraphStyle = conversion.GraphStyle,
            BlockSize = conversion.BlockSize,
            AccuracyLevel = conversion.AccuracyLevel,
            PromptAccuracyLevel = conversion.PromptAccuracyLevel,
            QuantizeEmbeddings = conversion.QuantizeEmbeddings,
            LastPositionLogitsOnly = conversion.LastPositionLogitsOnly,
            IntraOpThreadCount = conversion.IntraOpThreadCount,
            ContextLength = conversion.ContextLength,
            Overwrite = true,
        };
        try
        {
            await Task.Run(
                () =>
                {
                    using var checkpoint = GgufCheckpoint.Open(file, options.ContextLength);
                    ModelFolderWriter.Write(
                        checkpoint,
                        dir =>
                        {
                            checkpoint.WriteTokenizer(dir);
                            WriteManifest(Path.Combine(dir, ManifestFile), file, key, options.Precision);
                        },
                        folder,
                        options,
                        progress,
                        cancellationToken);
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (ModelConversionException) when (IsComplete(folder))
        {
            // Another process imported it at the same time.
        }

        return folder;
    }

    private static void WriteManifest(string path, string source, string key, ModelPrecision precision)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("source", source);
        w.WriteString("format", "gguf");
        w.WriteString("sha256", key);
        w.WriteString("precision", precision.ToString().ToLowerInvariant());
        w.WriteString("importedAt", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        w.WriteEndObject();
    }

    private static bool IsComplete(string folder) =>
        File.Exists(Path.Combine(folder, ManifestFile)) && File.Exists(Path.Combine(folder, "genai_config.json")) && File.Exists(Path.Combine(folder, "model.onnx"));

    private static async Task<string> ContentKeyAsync(string path, string? root, CancellationToken cancellationToken)
    {
        // An Ollama blob is named by the SHA-256 of its bytes.
        string name = Path.GetFileName(path);
        if (name.Length == 71 && name.StartsWith("sha256-", StringComparison.Ordinal) && !name.AsSpan(7).ContainsAnyExcept("0123456789abcdef"))
        {
            return name[7..];
        }

        var info = new FileInfo(path);
        string memo = string.Create(CultureInfo.InvariantCulture, $"{path}|{info.Length}|{info.LastWriteTimeUtc.Ticks}");
        string? memoFile = root is null ? null : Path.Combine(root, "hashes", Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(memo)))[..32]);
        if (memoFile is not null && File.Exists(memoFile))
        {
            string remembered = (await File.ReadAllTextAsync(memoFile, cancellationToken).ConfigureAwait(false)).Trim();
            if (remembered.Length == 64)
            {
                return remembered;
            }
        }

        string hash;
        await using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan | FileOptions.Asynchronous))
        {
            hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        }

        if (memoFile is not null)
        {
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(memoFile)!);
                string temp = memoFile + "." + Guid.NewGuid().ToString("N");
                await File.WriteAllTextAsync(temp, hash, cancellationToken).ConfigureAwait(false);
                File.Move(temp, memoFile, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Only a speed-up: the next run hashes again.
            }
        }

        return hash;
    }

    private sealed class Resolver : IModelSourceResolver
    {
        public GgufImportOptions? Options { get; set; }

        public async ValueTask<string?> ResolveAsync(string model, IProgress<double>? progress, CancellationToken cancellationToken)
        {
            try
            {
                return await GgufImporter.ResolveAsync(model, Options, progress, cancellationToken).ConfigureAwait(false);
            }
            catch (ModelConversionException e)
            {
                throw new ModelLoadException(e.Message, e) { ModelPath = model };
            }
        }
    }
}
