namespace Infera.Server;

/// <summary>Options for the OpenAI- and Ollama-compatible endpoints that <c>MapInferaEndpoints</c> adds: the models served, the API key and the request limits.</summary>
public sealed class InferaServerOptions
{
    /// <summary>The default <see cref="MaxRequestBodySize"/>: 4 MiB.</summary>
    public const long DefaultMaxRequestBodySize = 4 * 1024 * 1024;

    private readonly List<ServedModel> _models = [];

    /// <summary>Gets or sets the API key that clients must send as <c>Authorization: Bearer KEY</c> on <c>/v1/...</c>.</summary>
    /// <remarks>The default, <see langword="null"/>, serves without a key. The key is compared in constant time. Health checks and metrics never need it.</remarks>
    public string? ApiKey { get; set; }

    /// <summary>Gets or sets the largest request body accepted, in bytes; larger bodies get 413. The default is 4 MiB.</summary>
    public long MaxRequestBodySize { get; set; } = DefaultMaxRequestBodySize;

    /// <summary>Gets or sets how long one request may take from its arrival to its last token; the default is 10 minutes.</summary>
    /// <remarks>A request that runs out of time stops generating: a non-streaming request gets 504, a stream ends with an error event.
    /// <see cref="Timeout.InfiniteTimeSpan"/> turns the limit off.</remarks>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Gets or sets the delay suggested in the <c>Retry-After</c> header of a 429 (queue full) response; the default is 1 second.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the number of new tokens a <c>/v1/completions</c> request gets when it names no <c>max_tokens</c>; the default is 16, as in OpenAI's API.</summary>
    /// <remarks>Chat completions without a limit generate until the end of the context. Every limit is capped by the context: a request
    /// asking for more tokens than fit after its prompt gets as many as fit, and finishes with <c>length</c>.</remarks>
    public int DefaultCompletionMaxTokens { get; set; } = 16;

    /// <summary>Gets or sets the OTLP endpoint that metrics and traces are exported to; the default, <see langword="null"/>, exports nothing over OTLP.</summary>
    /// <remarks>Metrics are always available in the Prometheus text format on <c>/metrics</c>.</remarks>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary>Gets or sets the catalog of models loaded on demand by name (for example the model library, or a <see cref="DirectoryModelCatalog"/>); the default, <see langword="null"/>, serves only the models added with <c>AddModel</c>.</summary>
    /// <remarks>Models added with <c>AddModel</c> are pinned: loaded when the application starts and never unloaded. Catalog models load on
    /// their first request and are unloaded after <see cref="KeepAlive"/>, or earlier to make room under <see cref="MaxLoadedModels"/> and <see cref="MaxLoadedModelBytes"/>.</remarks>
    public IModelCatalog? Catalog { get; set; }

    /// <summary>Gets or sets how long an on-demand model stays loaded after its last request; the default is 5 minutes, as in Ollama.</summary>
    /// <remarks>A negative value keeps models loaded until they must make room; <see cref="TimeSpan.Zero"/> unloads a model as soon as its last request ends.
    /// A request's <c>keep_alive</c> overrides it for that model.</remarks>
    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets the clock that keep-alive times are counted on; the default is <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Gets or sets how many models may be loaded at once, pinned ones included; the default is 3.</summary>
    public int MaxLoadedModels { get; set; } = 3;

    /// <summary>Gets or sets the bytes that loaded models may take together, counted as the size of their folders on disk; the default,
    /// <see langword="null"/>, is three quarters of the memory available to the process.</summary>
    public long? MaxLoadedModelBytes { get; set; }

    /// <summary>Gets or sets a callback that sets the runner options of each catalog model before it loads (threads, concurrency, provider).</summary>
    public Action<OnnxModelRunnerOptions>? ConfigureCatalogRunner { get; set; }

    /// <summary>Gets or sets a value indicating whether <c>GET /</c> serves the built-in chat page to browsers; the default is <see langword="true"/>.</summary>
    /// <remarks>The page is embedded in this assembly and loads nothing from elsewhere. Requests that do not accept <c>text/html</c> get
    /// <c>Infera is running</c> as plain text either way, as do browsers when the page is off.</remarks>
    public bool EnableChatPage { get; set; } = true;

    internal IReadOnlyList<ServedModel> Models => _models;

    internal static long DefaultMemoryBudget() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4 * 3;

    /// <summary>Serves the model in a folder, loaded when the application starts and disposed when it stops.</summary>
    /// <param name="modelPath">The ONNX Runtime GenAI model folder.</param>
    /// <param name="modelId">The id clients name in <c>model</c>; by default the folder's name.</param>
    /// <param name="runnerOptions">Options for the runner (concurrency, queue, context); <see langword="null"/> means the defaults.</param>
    /// <returns>These options, to chain calls.</returns>
    public InferaServerOptions AddModel(string modelPath, string? modelId = null, OnnxModelRunnerOptions? runnerOptions = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        var id = modelId ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelPath)));
        var options = runnerOptions ?? new OnnxModelRunnerOptions();
        options.ModelId ??= id;
        return Add(new ServedModel(id, Loader(modelPath, options), ownsRunner: true));
    }

    /// <summary>Serves a catalog model pinned (loaded when the application starts and never unloaded), with its Modelfile defaults:
    /// its chat template, its system message and parameters applied to requests that do not set them, as for on-demand models.</summary>
    /// <param name="entry">The model: its folder and defaults.</param>
    /// <param name="modelId">The id clients name in <c>model</c>; by default the entry's name.</param>
    /// <param name="runnerOptions">Options for the runner; <see langword="null"/> means the defaults. A chat template set here wins over the entry's.</param>
    /// <returns>These options, to chain calls.</returns>
    public InferaServerOptions AddModel(ModelCatalogEntry entry, string? modelId = null, OnnxModelRunnerOptions? runnerOptions = null)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var id = modelId ?? entry.Name;
        var options = runnerOptions ?? new OnnxModelRunnerOptions();
        options.ModelId ??= id;
        options.ChatTemplate ??= entry.Template;
        return Add(new ServedModel(id, Loader(entry.ModelPath, options), ownsRunner: true, pinned: true, entry));
    }

    /// <summary>Serves a runner that the caller has already loaded; the caller keeps owning it and disposes it.</summary>
    /// <param name="runner">The runner.</param>
    /// <param name="modelId">The id clients name in <c>model</c>; by default the runner's <see cref="ModelMetadata.ModelId"/>.</param>
    /// <returns>These options, to chain calls.</returns>
    public InferaServerOptions AddModel(IModelRunner runner, string? modelId = null)
    {
        ArgumentNullException.ThrowIfNull(runner);
        return Add(new ServedModel(modelId ?? runner.Metadata.ModelId, (_, _) => Task.FromResult(runner), ownsRunner: false));
    }

    /// <summary>Serves a model that a factory loads when the application starts; the server owns and disposes the runner it returns.</summary>
    /// <param name="modelId">The id clients name in <c>model</c>.</param>
    /// <param name="loader">Loads the runner; it gets the application's services and a token cancelled when the application stops.</param>
    /// <returns>These options, to chain calls.</returns>
    /// <remarks>Until the factory completes, <c>/health/ready</c> and requests for the model answer 503.</remarks>
    public InferaServerOptions AddModel(string modelId, Func<IServiceProvider, CancellationToken, Task<IModelRunner>> loader)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelId);
        ArgumentNullException.ThrowIfNull(loader);
        return Add(new ServedModel(modelId, loader, ownsRunner: true));
    }

    private static Func<IServiceProvider, CancellationToken, Task<IModelRunner>> Loader(string modelPath, OnnxModelRunnerOptions options) => async (services, cancellationToken) =>
    {
        options.LoggerFactory ??= (Microsoft.Extensions.Logging.ILoggerFactory?)services.GetService(typeof(Microsoft.Extensions.Logging.ILoggerFactory));
        return await OnnxModelRunner.LoadAsync(modelPath, options, null, cancellationToken).ConfigureAwait(false);
    };

    internal void Validate()
    {
        if (_models.Count == 0 && Catalog is null)
        {
            throw new InvalidOperationException("No model is served: call InferaServerOptions.AddModel with a model folder or a runner, or set a Catalog.");
        }

        if (MaxLoadedModels < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxLoadedModels), MaxLoadedModels, "MaxLoadedModels must be at least 1.");
        }

        if (MaxLoadedModelBytes is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxLoadedModelBytes), MaxLoadedModelBytes, "MaxLoadedModelBytes must be positive, or null for the default.");
        }

        if (MaxRequestBodySize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRequestBodySize), MaxRequestBodySize, "MaxRequestBodySize must be at least 1 byte.");
        }

        if (RequestTimeout <= TimeSpan.Zero && RequestTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(RequestTimeout), RequestTimeout, "RequestTimeout must be positive or Timeout.InfiniteTimeSpan.");
        }

        if (DefaultCompletionMaxTokens < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(DefaultCompletionMaxTokens), DefaultCompletionMaxTokens, "DefaultCompletionMaxTokens must be at least 1.");
        }

        if (ApiKey is { Length: 0 })
        {
            throw new ArgumentException("ApiKey must not be empty; use null to serve without a key.", nameof(ApiKey));
        }
    }

    private InferaServerOptions Add(ServedModel model)
    {
        if (_models.Any(m => string.Equals(m.Id, model.Id, StringComparison.Ordinal)))
        {
            throw new InvalidOperationException($"A model with the id '{model.Id}' is already served; give each model its own id.");
        }

        _models.Add(model);
        return this;
    }
}
