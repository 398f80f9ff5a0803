using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Infera.ModelBuilder;
using Microsoft.Extensions.AI;

namespace Infera.Models;

/// <summary>
/// The local model library: models pulled from the Hugging Face Hub or created from Modelfiles, each a ready ONNX Runtime
/// GenAI folder under a name (<c>name:tag</c>, or a Hub id <c>org/name</c>), with a manifest and generation defaults.
/// </summary>
/// <remarks>
/// <para>Layout under <see cref="RootDirectory"/> (<c>INFERA_HOME</c>, default <c>~/.cache/infera</c>): <c>manifests/&lt;name&gt;/&lt;tag&gt;.json</c>
/// names a model; <c>models/&lt;id&gt;/</c> holds ready folders, shared by every name that points at them (copies and Modelfile
/// variants cost no space); <c>tmp/</c> stages folders before they are renamed into place; <c>locks/</c> serializes processes.
/// Raw Hub files stay in <c>huggingface_hub</c>'s cache (<see cref="HuggingFaceHubOptions.CacheDirectory"/>), shared with Python tools.</para>
/// <para>Every change is atomic: a ready folder appears by rename once complete, a manifest by rename once the folder exists, so a
/// canceled or failed pull leaves no half model (downloads keep their partial files to resume). Instances are thread-safe, and
/// several processes may share one library.</para>
/// </remarks>
public sealed class ModelLibrary : IDisposable
{
    private readonly LibraryPaths _paths;
    private readonly bool _ownsHub;

    /// <summary>Initializes a new instance of the <see cref="ModelLibrary"/> class.</summary>
    /// <param name="options">The options; <see langword="null"/> uses <c>INFERA_HOME</c> and the Hub settings of the environment.</param>
    public ModelLibrary(ModelLibraryOptions? options = null)
        : this(options, null)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ModelLibrary"/> class that uses an existing Hub client.</summary>
    /// <param name="options">The options; <see langword="null"/> uses <c>INFERA_HOME</c>.</param>
    /// <param name="hub">The Hub client, which the library does not dispose; <see langword="null"/> creates one from <see cref="ModelLibraryOptions.Hub"/>.</param>
    public ModelLibrary(ModelLibraryOptions? options, HuggingFaceHubClient? hub)
    {
        Options = options ?? new ModelLibraryOptions();
        _paths = new LibraryPaths(Options.RootDirectory ?? LibraryPaths.DefaultRoot());
        _ownsHub = hub is null;
        Hub = hub ?? new HuggingFaceHubClient(Options.Hub);
    }

    /// <summary>Gets the library's options.</summary>
    public ModelLibraryOptions Options { get; }

    /// <summary>Gets the library folder.</summary>
    public string RootDirectory => _paths.Root;

    /// <summary>Gets the Hugging Face Hub client pulls use.</summary>
    public HuggingFaceHubClient Hub { get; }

    /// <summary>Gets the default library folder: <c>INFERA_HOME</c>, else <c>~/.cache/infera</c>.</summary>
    public static string DefaultRootDirectory => LibraryPaths.DefaultRoot();

    /// <summary>Lists the models in the library, by name.</summary>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>The models; a manifest that cannot be read is left out.</returns>
    public Task<IReadOnlyList<ModelInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<ModelInfo>();
        if (Directory.Exists(_paths.Manifests))
        {
            foreach (var path in Directory.EnumerateFiles(_paths.Manifests, "*.json", SearchOption.AllDirectories))
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    result.Add(CreateInfo(ModelJson.ReadManifest(path), path));
                }
                catch (Exception ex) when (ex is ModelLibraryException or IOException or UnauthorizedAccessException)
                {
                    // Skipped: one damaged entry must not hide the others.
                }
            }
        }

        return Task.FromResult<IReadOnlyList<ModelInfo>>([.. result.OrderBy(m => m.Name, StringComparer.Ordinal)]);
    }

    /// <summary>Finds a model by name.</summary>
    /// <param name="name">The name (<c>name[:tag]</c> or <c>org/name[:tag]</c>).</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>The model, or <see langword="null"/> when no model has that name (or the name is not valid).</returns>
    public Task<ModelInfo?> FindAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        cancellationToken.ThrowIfCancellationRequested();
        if (!ModelName.TryParse(name, out var parsed))
        {
            return Task.FromResult<ModelInfo?>(null);
        }

        var path = _paths.Manifest(parsed);
        return Task.FromResult(File.Exists(path) ? CreateInfo(ModelJson.ReadManifest(path), path) : null);
    }

    /// <summary>Describes a model: architecture, parameters, precision, context, chat template, licence, source, files.</summary>
    /// <param name="name">The name.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>The model.</returns>
    /// <exception cref="ModelNotFoundException">No model has that name.</exception>
    public async Task<ModelInfo> ShowAsync(string name, CancellationToken cancellationToken = default) =>
        await FindAsync(name, cancellationToken).ConfigureAwait(false) ?? throw NotFound(name);

    /// <summary>Resolves what a <c>--model</c> option or an API request names to a ready model folder and its defaults.</summary>
    /// <param name="nameOrPath">A library name, a Hub id (<c>org/name</c>, pulled first when <see cref="ModelResolveOptions.AllowPull"/> is set), or the path of an ONNX Runtime GenAI folder.</param>
    /// <param name="options">The options; <see langword="null"/> never pulls.</param>
    /// <param name="progress">Receives pull progress, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>The model folder with its defaults.</returns>
    /// <exception cref="ModelNotFoundException">The name is neither in the library nor an existing path.</exception>
    /// <exception cref="ModelLibraryException">The path is not a model folder Infera can load.</exception>
    public async Task<ResolvedModel> ResolveAsync(string nameOrPath, ModelResolveOptions? options = null, IProgress<ModelPullProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        if (Directory.Exists(nameOrPath))
        {
            if (File.Exists(Path.Combine(nameOrPath, "genai_config.json")))
            {
                return new ResolvedModel { ModelDirectory = Path.GetFullPath(nameOrPath) };
            }

            throw new ModelLibraryException(File.Exists(Path.Combine(nameOrPath, "config.json"))
                ? $"'{nameOrPath}' is a Hugging Face folder, not an ONNX Runtime GenAI folder (no genai_config.json); convert it with 'infera convert --input {nameOrPath} --output <folder>', or create a library model from it."
                : $"'{nameOrPath}' is not a model folder: it has no genai_config.json.");
        }

        if (File.Exists(nameOrPath))
        {
            throw new ModelLibraryException(nameOrPath.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)
                ? $"'{nameOrPath}' is a GGUF file; add it to the library first with a Modelfile ('FROM {nameOrPath}') and 'infera create NAME -f Modelfile'."
                : $"'{nameOrPath}' is a file; a model is an ONNX Runtime GenAI folder or a library name.");
        }

        var (reference, revision) = SplitRevision(nameOrPath);
        if (ModelName.TryParse(reference, out var name, out var error))
        {
            var storedName = revision is null ? name : ModelName.Parse(PullName(reference, revision));
            var path = _paths.Manifest(storedName);
            if (File.Exists(path))
            {
                return ToResolved(CreateInfo(ModelJson.ReadManifest(path), path));
            }

            if (options?.AllowPull == true && LooksLikeRepoId(reference))
            {
                var pulled = await PullAsync(nameOrPath, options.Pull, progress, cancellationToken).ConfigureAwait(false);
                return ToResolved(pulled);
            }

            throw NotFound(nameOrPath);
        }

        throw new ModelNotFoundException(LooksLikePath(nameOrPath)
            ? $"Model folder '{nameOrPath}' does not exist."
            : $"'{nameOrPath}' is neither a model folder nor a library name: {error}") { ModelName = nameOrPath };
    }

    /// <summary>Pulls a model from the Hugging Face Hub into the library: downloads its files into the Hub cache, makes it runnable (used as is, converted or imported) and names it.</summary>
    /// <param name="reference">The repository: <c>org/name</c> or <c>org/name@revision</c> (branch, tag or commit); <c>hf.co/</c> and <c>https://huggingface.co/</c> prefixes are accepted.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="progress">Receives progress: downloads in bytes per file, then conversion.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>. Canceling keeps partial downloads to resume from and adds nothing to the library.</param>
    /// <returns>The pulled model.</returns>
    /// <exception cref="HuggingFaceHubException">The repository, revision or a file does not exist, is gated or private without <c>HF_TOKEN</c>, the Hub cannot be reached, or a download is corrupt.</exception>
    /// <exception cref="ModelLibraryException">The repository has nothing runnable, the conversion failed, or the disk is full.</exception>
    public async Task<ModelInfo> PullAsync(string reference, ModelPullOptions? options = null, IProgress<ModelPullProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reference);
        options ??= new ModelPullOptions();
        var (repoText, revision) = SplitRevision(StripHubPrefix(reference.Trim()));
        var repoId = HuggingFaceHubClient.ValidateRepoId(repoText);

        if (!repoId.Contains('/', StringComparison.Ordinal))
        {
            throw new ModelLibraryException($"'{reference}' is not a Hugging Face repository id: use org/name (for example Qwen/Qwen2.5-0.5B-Instruct).");
        }

        var name = ParseName(options.Name ?? PullName(repoId, revision));
        progress?.Report(new ModelPullProgress("pulling manifest"));
        var repository = await Hub.GetRepositoryAsync(repoId, revision, cancellationToken).ConfigureAwait(false);
        var plan = PullPlan.Create(repository, options);

        long total = plan.Files.Sum(f => f.Size ?? 0);
        var downloaded = new List<ModelManifestFile>();
        string? firstPath = null;
        foreach (var file in plan.Files)
        {
            var local = await Hub.DownloadFileAsync(repository, file.Path, progress, cancellationToken).ConfigureAwait(false);
            firstPath ??= local;
            var blob = new FileInfo(local).ResolveLinkTarget(returnFinalTarget: true)?.Name ?? file.Sha256 ?? file.BlobId;
            downloaded.Add(new ModelManifestFile { Path = file.Path, Size = new FileInfo(local).Length, Sha256 = file.Sha256 ?? (blob?.Length == 64 ? blob : null), Etag = blob });
        }

        var snapshot = HuggingFaceCache.SnapshotDirectory(Hub.Options.CacheDirectory, repoId, repository.Commit);
        var source = new ModelSource
        {
            Kind = ModelSource.HuggingFace,
            Endpoint = Hub.Options.Endpoint.ToString().TrimEnd('/'),
            Repository = repoId,
            Revision = repository.Revision,
            Commit = repository.Commit,
            Format = plan.Format,
            Subfolder = plan.Subfolder,
            Files = downloaded,
        };

        long? parameters = plan.Format == PullPlan.Safetensors ? SafetensorsParameterCount(snapshot, plan.Files) : null;
        var precision = plan.Format switch
        {
            PullPlan.Safetensors => plan.Precision ?? (parameters > Options.Int4ParameterThreshold ? ModelPrecision.Int4 : ModelPrecision.Float32),
            PullPlan.Gguf => plan.Precision ?? ModelPrecision.Int4,
            _ => plan.Precision,
        };
        var id = ModelId(repoId, repository.Commit, plan.Format, plan.Subfolder, string.Join(",", plan.Files.Select(f => f.Path)), precision);
        var built = await EnsureModelFolderAsync(id, staging => plan.Format switch
        {
            PullPlan.OnnxGenAI => CopyFolderAsync(plan.Subfolder is null ? snapshot : Path.Combine(snapshot, plan.Subfolder), staging, cancellationToken),
            PullPlan.Safetensors => ModelConverter.ConvertHuggingFaceAsync(snapshot, staging, new ConversionOptions { Precision = precision!.Value }, ConversionProgress(progress), cancellationToken),
            _ => GgufImport.ImportAsync(Path.Combine(snapshot, plan.Files[0].Path), staging, new ConversionOptions { Precision = precision!.Value }, ConversionProgress(progress), cancellationToken),
        }, progress, cancellationToken).ConfigureAwait(false);

        var manifest = new ModelManifest
        {
            Name = name.ToString(),
            ModelId = id,
            Source = source,
            Precision = precision is { } p ? PullPlan.PrecisionName(p) : null,
            ParameterCount = parameters ?? built.ParameterCount,
            License = repository.License,
            Files = built.Files,
            CreatedAt = DateTimeOffset.UtcNow,
        };
        ReadGenAIConfig(_paths.Model(id), manifest);
        progress?.Report(new ModelPullProgress("writing manifest"));
        var info = await WriteManifestAsync(name, manifest, overwrite: true, cancellationToken).ConfigureAwait(false);
        progress?.Report(new ModelPullProgress("success"));
        _ = total;
        _ = firstPath;
        return info;
    }

    /// <summary>Creates a model from Modelfile text: <c>FROM</c> a library model, an ONNX Runtime GenAI folder or a GGUF file, with the Modelfile's defaults.</summary>
    /// <param name="name">The new model's name.</param>
    /// <param name="modelfile">The Modelfile text.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="progress">Receives progress (copying or importing a folder or file), or <see langword="null"/>.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>The created model.</returns>
    /// <exception cref="ModelLibraryException">The Modelfile is invalid, its <c>FROM</c> cannot be found or loaded, or the name exists and <see cref="ModelCreateOptions.Overwrite"/> is not set.</exception>
    public async Task<ModelInfo> CreateAsync(string name, string modelfile, ModelCreateOptions? options = null, IProgress<ModelPullProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(modelfile);
        options ??= new ModelCreateOptions();
        var target = ParseName(name);
        var parsed = Modelfile.Parse(modelfile);
        if (parsed.From is null)
        {
            throw new ModelLibraryException("The Modelfile has no FROM line; start it with 'FROM <library name, model folder or .gguf file>'.");
        }

        if (!options.Overwrite && File.Exists(_paths.Manifest(target)))
        {
            throw new ModelLibraryException($"A model named '{target}' already exists; remove it first ('infera rm {target}') or choose another name.");
        }

        var from = parsed.From;
        var fromPath = Path.GetFullPath(Path.Combine(options.BaseDirectory ?? Environment.CurrentDirectory, ExpandHome(from)));
        ModelManifest manifest;
        progress?.Report(new ModelPullProgress("parsing modelfile"));
        if (Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(fromPath)) == _paths.Models && File.Exists(fromPath + ".json"))
        {
            // FROM a ready folder of this library (what 'show --modelfile' prints): share it.
            var marker = ModelJson.ReadManifest(fromPath + ".json");
            manifest = new ModelManifest { ModelId = marker.ModelId, Source = new ModelSource { Kind = ModelSource.Modelfile, From = fromPath, Format = PullPlan.OnnxGenAI }, ParameterCount = marker.ParameterCount, Files = marker.Files };
            ReadGenAIConfig(fromPath, manifest);
        }
        else if (Directory.Exists(fromPath) || File.Exists(fromPath))
        {
            manifest = await ImportLocalAsync(fromPath, progress, cancellationToken).ConfigureAwait(false);
        }
        else if (ModelName.TryParse(from, out var baseName) && File.Exists(_paths.Manifest(baseName)))
        {
            var baseManifest = ModelJson.ReadManifest(_paths.Manifest(baseName));
            manifest = Clone(baseManifest);
            manifest.Source.From = baseName.ToString();
        }
        else
        {
            throw new ModelLibraryException(LooksLikePath(from)
                ? $"Modelfile FROM '{from}': no such folder or file ({fromPath})."
                : $"Modelfile FROM '{from}': no model of that name in the library" + (LooksLikeRepoId(from) ? $"; pull it first ('infera pull {from}')." : "."));
        }

        manifest.Name = target.ToString();
        manifest.Parameters = parsed.Parameters.MergeOver(manifest.Parameters) is { IsEmpty: false } merged ? merged : null;
        manifest.System = parsed.System ?? manifest.System;
        manifest.Template = parsed.Template ?? manifest.Template;
        manifest.License = parsed.License ?? manifest.License;
        manifest.CreatedAt = DateTimeOffset.UtcNow;
        progress?.Report(new ModelPullProgress("writing manifest"));
        var info = await WriteManifestAsync(target, manifest, options.Overwrite, cancellationToken).ConfigureAwait(false);
        progress?.Report(new ModelPullProgress("success"));
        return info;
    }

    /// <summary>Copies a model to a new name; both names share the model folder.</summary>
    /// <param name="source">The existing name.</param>
    /// <param name="destination">The new name.</param>
    /// <param name="overwrite">Whether an existing model of the new name is replaced. The default is <see langword="false"/>: copying fails instead.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>The new model.</returns>
    /// <exception cref="ModelNotFoundException">No model has the source name.</exception>
    /// <exception cref="ModelLibraryException">The destination exists and <paramref name="overwrite"/> is not set, or a name is invalid.</exception>
    public async Task<ModelInfo> CopyAsync(string source, string destination, bool overwrite = false, CancellationToken cancellationToken = default)
    {
        var from = ParseName(source);
        var to = ParseName(destination);
        var path = _paths.Manifest(from);
        if (!File.Exists(path))
        {
            throw NotFound(source);
        }

        var manifest = Clone(ModelJson.ReadManifest(path));
        manifest.Name = to.ToString();
        manifest.CreatedAt = DateTimeOffset.UtcNow;
        return await WriteManifestAsync(to, manifest, overwrite, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes a name from the library, and its model folder when no other name uses it. Files in the Hub cache are kept.</summary>
    /// <param name="name">The name.</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns><see langword="true"/> when the model was removed; <see langword="false"/> when no model has that name.</returns>
    public async Task<bool> RemoveAsync(string name, CancellationToken cancellationToken = default)
    {
        var parsed = ParseName(name);
        var path = _paths.Manifest(parsed);
        string modelId;
        using (await FileLock.AcquireAsync(_paths.NamesLock, null, cancellationToken).ConfigureAwait(false))
        {
            if (!File.Exists(path))
            {
                return false;
            }

            try
            {
                modelId = ModelJson.ReadManifest(path).ModelId;
            }
            catch (ModelLibraryException)
            {
                modelId = string.Empty;
            }

            File.Delete(path);
            DeleteEmptyParents(Path.GetDirectoryName(path)!, _paths.Manifests);
        }

        if (modelId.Length > 0)
        {
            await CollectAsync(modelId, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>Loads a chat client for a library name or a model folder, with the model's Modelfile defaults applied.</summary>
    /// <param name="nameOrPath">A library name, a Hub id, or an ONNX Runtime GenAI folder.</param>
    /// <param name="runnerOptions">The runner options, or <see langword="null"/>; the model's context length and chat template fill the values left unset.</param>
    /// <param name="options">The chat client options, or <see langword="null"/>.</param>
    /// <param name="resolveOptions">Whether a Hub id not in the library may be pulled, or <see langword="null"/> (never).</param>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>An <see cref="IChatClient"/> (a <see cref="ModelDefaultsChatClient"/> over an <see cref="InferaChatClient"/>, which <c>GetService</c> returns) that owns the loaded model.</returns>
    public async Task<IChatClient> LoadChatClientAsync(string nameOrPath, OnnxModelRunnerOptions? runnerOptions = null, InferaChatClientOptions? options = null, ModelResolveOptions? resolveOptions = null, CancellationToken cancellationToken = default)
    {
        var model = await ResolveAsync(nameOrPath, resolveOptions, null, cancellationToken).ConfigureAwait(false);
        var client = await InferaChatClient.LoadAsync(model.ModelDirectory, model.ApplyTo(runnerOptions), options, null, cancellationToken).ConfigureAwait(false);
        return new ModelDefaultsChatClient(client, model);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsHub)
        {
            Hub.Dispose();
        }
    }

    internal static ResolvedModel ToResolved(ModelInfo info) => new()
    {
        Name = info.Name,
        ModelDirectory = info.ModelDirectory,
        Manifest = info.Manifest,
        Parameters = info.Manifest.Parameters?.MergeOver(null) ?? new ModelParameters(),
        System = info.Manifest.System,
        Template = info.Manifest.Template,
    };

    private static ModelName ParseName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ModelName.TryParse(name, out var parsed, out var error) ? parsed : throw new ModelLibraryException(error);
    }

    private static string PullName(string repoId, string? revision) =>
        revision is null or "main" ? repoId : repoId + ":" + new string([.. revision.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' ? c : '-')]).TrimStart('.', '-');

    private static (string Reference, string? Revision) SplitRevision(string text)
    {
        int at = text.IndexOf('@', StringComparison.Ordinal);
        return at < 0 ? (text, null) : (text[..at], text[(at + 1)..] is { Length: > 0 } rev ? rev : null);
    }

    private static string StripHubPrefix(string reference)
    {
        foreach (var prefix in (ReadOnlySpan<string>)["https://huggingface.co/", "http://huggingface.co/", "huggingface.co/", "hf.co/"])
        {
            if (reference.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return reference[prefix.Length..].TrimEnd('/');
            }
        }

        return reference;
    }

    private static bool LooksLikeRepoId(string text) => StripHubPrefix(text).Split('/').Length == 2 && !text.Contains(':', StringComparison.Ordinal);

    private static bool LooksLikePath(string text) =>
        text.StartsWith('.') || text.StartsWith('~') || Path.IsPathRooted(text) || text.Contains('\\', StringComparison.Ordinal) || text.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) || text.Split('/').Length > 3;

    private static string ExpandHome(string path) =>
        path.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path[2..]) : path;

    private static string ModelId(params object?[] parts)
    {
        var text = string.Join("\n", parts.Select(p => Convert.ToString(p, CultureInfo.InvariantCulture) ?? string.Empty));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..24];
    }

    private ModelNotFoundException NotFound(string name) =>
        new($"Model '{name}' is not in the library at {RootDirectory}" + (LooksLikeRepoId(name) ? $"; pull it with 'infera pull {name}'." : "; see 'infera list'.")) { ModelName = name };

    private static ModelManifest Clone(ModelManifest manifest) => JsonSerializer.Deserialize(ModelJson.Serialize(manifest), ModelJson.Default.ModelManifest)!;

    private static IProgress<double>? ConversionProgress(IProgress<ModelPullProgress>? progress) =>
        progress is null ? null : new Progress<double>(fraction => progress.Report(new ModelPullProgress("converting", null, (long)(fraction * 1000), 1000)));

    private static long? SafetensorsParameterCount(string snapshot, IEnumerable<HuggingFaceRepositoryFile> files)
    {
        long total = 0;
        var lengthBytes = new byte[8];
        foreach (var file in files.Where(f => f.Path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)))
        {
            try
            {
                using var stream = File.OpenRead(Path.Combine(snapshot, file.Path));
                stream.ReadExactly(lengthBytes);
                long length = BitConverter.ToInt64(lengthBytes);
                if (length is <= 0 or > 100_000_000)
                {
                    return null;
                }

                var header = new byte[length];
                stream.ReadExactly(header);
                using var document = JsonDocument.Parse(header);
                foreach (var tensor in document.RootElement.EnumerateObject())
                {
                    if (tensor.Name != "__metadata__" && tensor.Value.TryGetProperty("shape", out var shape))
                    {
                        total += shape.EnumerateArray().Aggregate(1L, (product, d) => product * d.GetInt64());
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or JsonException or InvalidOperationException or FormatException)
            {
                return null;
            }
        }

        return total;
    }

    private static void ReadGenAIConfig(string folder, ModelManifest manifest)
    {
        var path = Path.Combine(folder, "genai_config.json");
        if (!File.Exists(path))
        {
            return;
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            if (document.RootElement.TryGetProperty("model", out var model))
            {
                manifest.Architecture ??= model.TryGetProperty("type", out var type) ? type.GetString() : null;
                manifest.ContextLength ??= model.TryGetProperty("context_length", out var context) && context.TryGetInt32(out var length) ? length : null;
            }
        }
        catch (JsonException)
        {
        }
    }

    private static string? ReadChatTemplate(string folder)
    {
        var path = Path.Combine(folder, "tokenizer_config.json");
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

            return template.ValueKind switch
            {
                JsonValueKind.String => template.GetString(),
                JsonValueKind.Array => template.EnumerateArray().Where(t => t.TryGetProperty("name", out var n) && n.GetString() == "default").Select(t => t.GetProperty("template").GetString()).FirstOrDefault(),
                _ => null,
            };
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    private static async Task CopyFolderAsync(string from, string to, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (!Native.TryHardLink(new FileInfo(file).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? file, target))
            {
                await using var input = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
                await using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
                await input.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task<List<ModelManifestFile>> DigestFolderAsync(string folder, CancellationToken cancellationToken)
    {
        var files = new List<ModelManifestFile>();
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
            var hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
            files.Add(new ModelManifestFile { Path = Path.GetRelativePath(folder, file).Replace(Path.DirectorySeparatorChar, '/'), Size = stream.Length, Sha256 = Convert.ToHexStringLower(hash) });
        }

        return files;
    }

    private static void DeleteEmptyParents(string folder, string stop)
    {
        var full = Path.GetFullPath(folder);
        var end = Path.GetFullPath(stop);
        while (full.Length > end.Length && full.StartsWith(end, StringComparison.Ordinal) && Directory.Exists(full) && !Directory.EnumerateFileSystemEntries(full).Any())
        {
            Directory.Delete(full);
            full = Path.GetDirectoryName(full)!;
        }
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left in tmp/; the next build of the same model removes it.
        }
    }

    private async Task<ModelManifest> ImportLocalAsync(string path, IProgress<ModelPullProgress>? progress, CancellationToken cancellationToken)
    {
        bool gguf = File.Exists(path) && path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase);
        if (!gguf && !(Directory.Exists(path) && File.Exists(Path.Combine(path, "genai_config.json"))))
        {
            throw new ModelLibraryException(Directory.Exists(path)
                ? $"Modelfile FROM '{path}': the folder has no genai_config.json (an ONNX Runtime GenAI folder is needed; convert Hugging Face folders with 'infera convert')."
                : $"Modelfile FROM '{path}': a file must be a GGUF model (.gguf).");
        }

        // The id follows the content, so creating twice from one folder shares one copy.
        var sourceFiles = gguf
            ? [new ModelManifestFile { Path = Path.GetFileName(path), Size = new FileInfo(path).Length }]
            : Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
                .Select(f => new ModelManifestFile { Path = Path.GetRelativePath(path, f).Replace(Path.DirectorySeparatorChar, '/'), Size = new FileInfo(f).Length }).ToList();
        var precision = gguf ? PullPlan.PrecisionFromName(path) ?? ModelPrecision.Int4 : PullPlan.PrecisionFromName(Path.GetFileName(path));
        var id = ModelId("local", path, string.Join(",", sourceFiles.Select(f => f.Path + ":" + f.Size.ToString(CultureInfo.InvariantCulture))), File.GetLastWriteTimeUtc(path).Ticks, precision);
        var built = await EnsureModelFolderAsync(id, staging => gguf
            ? GgufImport.ImportAsync(path, staging, new ConversionOptions { Precision = precision!.Value }, ConversionProgress(progress), cancellationToken)
            : CopyFolderAsync(path, staging, cancellationToken), progress, cancellationToken).ConfigureAwait(false);
        var manifest = new ModelManifest
        {
            ModelId = id,
            Source = new ModelSource { Kind = ModelSource.Modelfile, From = path, Format = gguf ? PullPlan.Gguf : PullPlan.OnnxGenAI, Files = sourceFiles },
            Precision = precision is { } p ? PullPlan.PrecisionName(p) : null,
            ParameterCount = built.ParameterCount,
            Files = built.Files,
        };
        ReadGenAIConfig(_paths.Model(id), manifest);
        return manifest;
    }

    private async Task<BuiltModel> EnsureModelFolderAsync(string id, Func<string, Task> build, IProgress<ModelPullProgress>? progress, CancellationToken cancellationToken)
    {
        var final = _paths.Model(id);
        var complete = final + ".json";
        using (await FileLock.AcquireAsync(_paths.ModelLock(id), () => progress?.Report(new ModelPullProgress("waiting for another pull")), cancellationToken).ConfigureAwait(false))
        {
            if (Directory.Exists(final) && File.Exists(complete))
            {
                var existing = ModelJson.ReadManifest(complete);
                return new BuiltModel(existing.Files, existing.ParameterCount);
            }

            Directory.CreateDirectory(_paths.Temp);
            foreach (var stale in Directory.EnumerateDirectories(_paths.Temp, id + ".*"))
            {
                TryDeleteDirectory(stale);
            }

            TryDeleteDirectory(final);
            var staging = Path.Combine(_paths.Temp, id + "." + Guid.NewGuid().ToString("N")[..8]);
            try
            {
                progress?.Report(new ModelPullProgress("converting", null, 0, 1000));
                await build(staging).ConfigureAwait(false);
                progress?.Report(new ModelPullProgress("converting", null, 1000, 1000));
                if (!File.Exists(Path.Combine(staging, "genai_config.json")))
                {
                    throw new ModelLibraryException("The model folder has no genai_config.json after it was built; nothing was added to the library.");
                }

                progress?.Report(new ModelPullProgress("verifying sha256 digest"));
                var files = await DigestFolderAsync(staging, cancellationToken).ConfigureAwait(false);
                long? parameters = null;
                Directory.CreateDirectory(_paths.Models);
                Directory.Move(staging, final);

                // The marker records the folder's digests; without it the folder is incomplete and is rebuilt.
                var marker = new ModelManifest { Name = id, ModelId = id, Files = files, ParameterCount = parameters, CreatedAt = DateTimeOffset.UtcNow };
                await WriteAtomicallyAsync(complete, ModelJson.Serialize(marker), cancellationToken).ConfigureAwait(false);
                return new BuiltModel(files, parameters);
            }
            catch (IOException ex) when (ex.HResult is 28 or 39 or 112)
            {
                TryDeleteDirectory(staging);
                throw new ModelLibraryException($"The disk is full while writing the model to {_paths.Root} ({ex.Message}); nothing was added to the library. Free space or set INFERA_HOME to a larger disk.", ex);
            }
            catch
            {
                TryDeleteDirectory(staging);
                throw;
            }
        }
    }

    private async Task CollectAsync(string modelId, CancellationToken cancellationToken)
    {
        using (await FileLock.AcquireAsync(_paths.ModelLock(modelId), null, cancellationToken).ConfigureAwait(false))
        using (await FileLock.AcquireAsync(_paths.NamesLock, null, cancellationToken).ConfigureAwait(false))
        {
            var inUse = Directory.Exists(_paths.Manifests) && Directory.EnumerateFiles(_paths.Manifests, "*.json", SearchOption.AllDirectories).Any(path =>
            {
                try
                {
                    return ModelJson.ReadManifest(path).ModelId == modelId;
                }
                catch (ModelLibraryException)
                {
                    return false;
                }
            });
            if (inUse)
            {
                return;
            }

            // Out of models/ first (one rename), then deleted: a reader never sees half a folder.
            var folder = _paths.Model(modelId);
            File.Delete(folder + ".json");
            if (Directory.Exists(folder))
            {
                Directory.CreateDirectory(_paths.Temp);
                var trash = Path.Combine(_paths.Temp, modelId + ".removed-" + Guid.NewGuid().ToString("N")[..8]);
                Directory.Move(folder, trash);
                TryDeleteDirectory(trash);
            }
        }
    }

    private async Task<ModelInfo> WriteManifestAsync(ModelName name, ModelManifest manifest, bool overwrite, CancellationToken cancellationToken)
    {
        var path = _paths.Manifest(name);
        using (await FileLock.AcquireAsync(_paths.NamesLock, null, cancellationToken).ConfigureAwait(false))
        {
            if (!overwrite && File.Exists(path))
            {
                throw new ModelLibraryException($"A model named '{name}' already exists; remove it first ('infera rm {name}') or choose another name.");
            }

            string? replaced = File.Exists(path) ? TryReadModelId(path) : null;
            await WriteAtomicallyAsync(path, ModelJson.Serialize(manifest), cancellationToken).ConfigureAwait(false);
            if (replaced is not null && replaced != manifest.ModelId)
            {
                _ = Task.Run(() => CollectAsync(replaced, CancellationToken.None), CancellationToken.None);
            }
        }

        return CreateInfo(manifest, path);
    }

    private static string? TryReadModelId(string path)
    {
        try
        {
            return ModelJson.ReadManifest(path).ModelId;
        }
        catch (ModelLibraryException)
        {
            return null;
        }
    }

    private static async Task WriteAtomicallyAsync(string path, byte[] content, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        try
        {
            await File.WriteAllBytesAsync(temp, content, cancellationToken).ConfigureAwait(false);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    private ModelInfo CreateInfo(ModelManifest manifest, string manifestPath)
    {
        var folder = _paths.Model(manifest.ModelId);
        var bytes = ModelJson.Serialize(manifest);
        return new ModelInfo
        {
            Name = manifest.Name,
            ModelDirectory = folder,
            Manifest = manifest,
            Size = manifest.Files.Sum(f => f.Size),
            ModifiedAt = File.Exists(manifestPath) ? new DateTimeOffset(File.GetLastWriteTimeUtc(manifestPath), TimeSpan.Zero) : manifest.CreatedAt,
            Digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)),
            ChatTemplate = manifest.Template ?? ReadChatTemplate(folder),
        };
    }

    private sealed record BuiltModel(IList<ModelManifestFile> Files, long? ParameterCount);
}
