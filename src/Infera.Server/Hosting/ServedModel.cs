namespace Infera.Server;

/// <summary>
/// One model the server answers for: its id, how it is loaded, and once loaded its runner and chat client.
/// Pinned models (added with <c>AddModel</c>) load when the server starts and stay; catalog models load on demand and may be unloaded.
/// The registry changes the bookkeeping fields under its lock.
/// </summary>
internal sealed class ServedModel(string id, Func<IServiceProvider, CancellationToken, Task<IModelRunner>> loader, bool ownsRunner, bool pinned = true, ModelCatalogEntry? entry = null)
{
    private readonly Lock _gate = new();
    private volatile IModelRunner? _runner;
    private volatile InferaChatClient? _chatClient;
    private ModelFolderInfo? _folder;

    public string Id { get; } = id;

    /// <summary>Gets the name with its tag, as Ollama's endpoints report it.</summary>
    public string Name { get; } = ModelName.Normalize(id);

    public bool OwnsRunner { get; } = ownsRunner;

    public bool Pinned { get; } = pinned;

    /// <summary>Gets the catalog entry (its Modelfile defaults) of an on-demand model or of one pinned from a catalog, or <see langword="null"/> for a model added by folder or runner.</summary>
    public ModelCatalogEntry? Entry { get; } = entry;

    public long Created { get; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public Task? Loading { get; private set; }

    public IModelRunner? Runner => _runner;

    public InferaChatClient? ChatClient => _chatClient;

    public Exception? LoadError { get; private set; }

    public bool IsReady => _runner is not null;

    /// <summary>Gets how long the last load took.</summary>
    public TimeSpan LoadDuration { get; private set; }

    // Bookkeeping of the pool, guarded by the registry's lock.
    public int Leases { get; set; }

    public long LastUsed { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    public TimeSpan? KeepAlive { get; set; }

    /// <summary>Gets the model folder's size and description, read once (without loading the model).</summary>
    public ModelFolderInfo Folder => _folder ??= ModelFolderInfo.Read(_runner?.Metadata.ModelPath ?? Entry?.ModelPath ?? string.Empty);

    /// <summary>Gets the bytes this model is expected to take: its folder's size on disk.</summary>
    public long SizeBytes => Folder.SizeBytes;

    /// <summary>Starts loading once; later calls return the same task.</summary>
    public Task StartLoading(IServiceProvider services, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Loading ??= LoadAsync(services, cancellationToken);
        }
    }

    /// <summary>Forgets the runner (after a failed load or an unload) so that the next request loads again; returns the runner to dispose.</summary>
    public IModelRunner? Reset()
    {
        lock (_gate)
        {
            var runner = _runner;
            _runner = null;
            _chatClient = null;
            Loading = null;
            LoadError = null;
            ExpiresAt = null;
            return runner;
        }
    }

    private async Task LoadAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            // Loaders may block (reading the model); keep them off the caller's thread.
            var runner = await Task.Run(() => loader(services, cancellationToken), cancellationToken).ConfigureAwait(false);

            // Limits are capped by the context: a request asking for more than fits gets what fits and finishes with "length".
            _chatClient = new InferaChatClient(runner, new InferaChatClientOptions { ContextOverflow = ContextOverflowPolicy.LimitNewTokens });
            LoadDuration = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            _runner = runner;
        }
        catch (Exception ex)
        {
            LoadError = ex;
            throw;
        }
    }
}
