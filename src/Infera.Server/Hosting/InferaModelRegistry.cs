using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;

namespace Infera.Server;

/// <summary>The models an Infera server answers for, and which of them are loaded: a pool behind every endpoint.</summary>
/// <remarks>
/// <para>Pinned models (<see cref="InferaServerOptions.AddModel(string, string?, OnnxModelRunnerOptions?)"/>) load when the
/// application starts and stay loaded. Models of <see cref="InferaServerOptions.Catalog"/> load on their first request
/// (concurrent first requests share one load), stay loaded for their keep-alive time after their last request, and are
/// unloaded least-recently-used first when loading another would exceed <see cref="InferaServerOptions.MaxLoadedModels"/>
/// or <see cref="InferaServerOptions.MaxLoadedModelBytes"/>. A model serving a request is never unloaded; a load that must
/// wait for one to finish waits.</para>
/// <para>Registered as a singleton by <c>AddInferaServer</c>. Runners the registry loaded are disposed with it; runners given to
/// <see cref="InferaServerOptions.AddModel(IModelRunner, string?)"/> are not. This type is thread-safe.</para>
/// </remarks>
public sealed class InferaModelRegistry : IAsyncDisposable
{
    private readonly IReadOnlyList<ServedModel> _models;
    private readonly InferaServerOptions _options;
    private readonly IServiceProvider _services;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ServedModel> _onDemand = new(StringComparer.Ordinal);
    private readonly ITimer _sweeper;
    private TaskCompletionSource _capacityChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    internal InferaModelRegistry(InferaServerOptions options, IServiceProvider services, ILogger<InferaModelRegistry> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _models = options.Models;
        _services = services;
        _logger = logger;
        _sweeper = options.TimeProvider.CreateTimer(_ => UnloadExpired(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>Gets the ids of the pinned models, in the order they were added, then the names of the on-demand models that have been requested.</summary>
    public IReadOnlyList<string> ModelIds
    {
        get
        {
            lock (_lock)
            {
                return [.. _models.Select(m => m.Id), .. _onDemand.Values.Select(m => m.Id)];
            }
        }
    }

    /// <summary>Gets a value indicating whether every pinned model is loaded (on-demand models load when asked for).</summary>
    public bool IsReady => _models.All(m => m.IsReady);

    /// <summary>Starts loading the pinned models (if not started) and waits until all are loaded.</summary>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>A task that completes when every pinned model is loaded, or fails with the first load error.</returns>
    public Task WaitUntilReadyAsync(CancellationToken cancellationToken = default) =>
        Task.WhenAll(_models.Select(StartLoading)).WaitAsync(cancellationToken);

    /// <summary>Gets the runner serving a model, when it is loaded.</summary>
    /// <param name="modelId">The model id or name (<c>:latest</c> implied).</param>
    /// <param name="runner">The runner, when the model is served and loaded.</param>
    /// <returns><see langword="true"/> when the model is served and loaded.</returns>
    public bool TryGetRunner(string modelId, [NotNullWhen(true)] out IModelRunner? runner)
    {
        runner = Find(modelId)?.Runner;
        if (runner is null)
        {
            lock (_lock)
            {
                runner = modelId is null ? null : _onDemand.GetValueOrDefault(ModelName.Normalize(modelId))?.Runner;
            }
        }

        return runner is not null;
    }

    /// <summary>Gets the pinned models.</summary>
    internal IReadOnlyList<ServedModel> Models => _models;

    internal IModelCatalog? Catalog => _options.Catalog;

    /// <summary>Finds a pinned model by its id, or by its name with <c>:latest</c> implied.</summary>
    internal ServedModel? Find(string? modelId) => modelId is null ? null
        : _models.FirstOrDefault(m => string.Equals(m.Id, modelId, StringComparison.Ordinal))
          ?? _models.FirstOrDefault(m => ModelName.SameModel(m.Id, modelId));

    /// <summary>Gets every model loaded or loading now, pinned first.</summary>
    internal IReadOnlyList<ServedModel> Loaded()
    {
        lock (_lock)
        {
            return [.. _models.Where(m => m.IsReady), .. _onDemand.Values.Where(m => m.IsReady).OrderByDescending(m => m.LastUsed)];
        }
    }

    /// <summary>Lists every model the server answers for: the pinned ones, then the catalog's.</summary>
    internal async Task<IReadOnlyList<ServedModel>> ListAsync(CancellationToken cancellationToken)
    {
        var result = new List<ServedModel>(_models);
        if (_options.Catalog is { } catalog)
        {
            foreach (var entry in await catalog.ListAsync(cancellationToken).ConfigureAwait(false))
            {
                if (Find(entry.Name) is null)
                {
                    result.Add(OnDemand(entry));
                }
            }
        }

        return result;
    }

    /// <summary>Finds a model by name, pinned or in the catalog, without loading it; <see langword="null"/> when there is none.</summary>
    internal async Task<ServedModel?> FindAnyAsync(string name, CancellationToken cancellationToken)
    {
        if (Find(name) is { } pinned)
        {
            return pinned;
        }

        return _options.Catalog is { } catalog && await catalog.FindAsync(name, cancellationToken).ConfigureAwait(false) is { } entry
            ? OnDemand(entry)
            : null;
    }

    /// <summary>
    /// Takes a lease on a model, loading it first when needed: 400 without a name, 404 for an unknown name, 503 while a pinned
    /// model loads or when a load failed. The lease keeps the model loaded until it is disposed.
    /// </summary>
    internal async Task<ModelLease> AcquireAsync(string? name, TimeSpan? keepAlive, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw OpenAIErrorException.BadRequest("You must provide a model parameter.", "model");
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Find(name) is { } pinned)
        {
            if (!pinned.IsReady)
            {
                _ = StartLoading(pinned);
                throw NotReady(pinned);
            }

            lock (_lock)
            {
                pinned.Leases++;
                pinned.LastUsed = Stopwatch.GetTimestamp();
            }

            return new ModelLease(this, pinned, keepAlive, TimeSpan.Zero);
        }

        var model = await FindAnyAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new ServedModelNotFoundException(name, await KnownNamesAsync(cancellationToken).ConfigureAwait(false));
        var started = Stopwatch.GetTimestamp();
        var loadedHere = false;
        lock (_lock)
        {
            model.Leases++;
        }

        try
        {
            while (true)
            {
                Task wait;
                List<(ServedModel Model, IModelRunner Runner)> evicted = [];
                lock (_lock)
                {
                    if (model.IsReady)
                    {
                        model.LastUsed = Stopwatch.GetTimestamp();
                        model.ExpiresAt = null;
                        if (loadedHere)
                        {
                            ServerLog.ModelLoaded(_logger, model.Name, model.LoadDuration.TotalSeconds);
                        }

                        return new ModelLease(this, model, keepAlive, loadedHere ? Stopwatch.GetElapsedTime(started) : TimeSpan.Zero);
                    }

                    if (model.Loading is { } loading)
                    {
                        wait = loading;
                    }
                    else if (MakeRoom(model, evicted))
                    {
                        loadedHere = true;
                        wait = StartLoading(model);
                    }
                    else
                    {
                        wait = _capacityChanged.Task;
                    }
                }

                await DisposeAsync(evicted).ConfigureAwait(false);
                try
                {
                    await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && model.LoadError is not null)
                {
                    var error = model.LoadError ?? ex;
                    lock (_lock)
                    {
                        // The next request tries again (the folder may have been fixed).
                        if (model.Loading is { IsCompleted: true })
                        {
                            model.Reset();
                        }
                    }

                    SignalCapacity();
                    throw new OpenAIErrorException(503, $"The model '{model.Name}' failed to load: {error.GetBaseException().Message}", OpenAIErrorException.ServerError, null, "model_not_ready");
                }
            }
        }
        catch
        {
            lock (_lock)
            {
                model.Leases--;
            }

            SignalCapacity();
            throw;
        }
    }

    /// <summary>Unloads a model now when no request uses it (<c>keep_alive: 0</c> with no request in flight, or a deleted model).</summary>
    internal async Task UnloadAsync(string name)
    {
        ServedModel? model;
        lock (_lock)
        {
            model = _onDemand.GetValueOrDefault(ModelName.Normalize(name));
        }

        if (model is null)
        {
            return;
        }

        List<ServedModel> unload = [];
        lock (_lock)
        {
            if (model.Leases == 0 && model.IsReady)
            {
                unload.Add(model);
            }
        }

        await UnloadAsync(unload).ConfigureAwait(false);
    }

    internal void Release(ServedModel model, TimeSpan? keepAlive)
    {
        var unloadNow = false;
        lock (_lock)
        {
            model.Leases--;
            model.LastUsed = Stopwatch.GetTimestamp();
            if (!model.Pinned)
            {
                var time = keepAlive ?? model.KeepAlive ?? _options.KeepAlive;
                model.KeepAlive = keepAlive ?? model.KeepAlive;
                if (model.Leases == 0)
                {
                    unloadNow = time == TimeSpan.Zero;
                    model.ExpiresAt = time < TimeSpan.Zero ? null : _options.TimeProvider.GetUtcNow() + time;
                }
            }
        }

        if (unloadNow)
        {
            _ = UnloadAsync(model.Name);
        }

        SignalCapacity();
    }

    internal static OpenAIErrorException NotReady(ServedModel model) => model.LoadError is { } error
        ? new OpenAIErrorException(503, $"The model '{model.Id}' failed to load: {error.GetBaseException().Message}", OpenAIErrorException.ServerError, null, "model_not_ready")
        : new OpenAIErrorException(503, $"The model '{model.Id}' is still loading; retry shortly.", OpenAIErrorException.ServerError, null, "model_not_ready");

    internal void StartLoadingAll()
    {
        foreach (var model in _models)
        {
            // Failures are observed by readiness checks and requests; log them once here.
            _ = StartLoading(model).ContinueWith(
                t => ServerLog.ModelLoadFailed(_logger, model.Id, t.Exception!.GetBaseException()),
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    internal Task StartLoading(ServedModel model)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return model.StartLoading(_services, _stopping.Token);
    }

    /// <summary>Stops loading and disposes the runners this registry loaded.</summary>
    /// <returns>A task that completes when the runners are disposed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _sweeper.DisposeAsync().ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        List<ServedModel> all;
        lock (_lock)
        {
            all = [.. _models, .. _onDemand.Values];
        }

        foreach (var model in all)
        {
            if (model.Loading is { } loading)
            {
                try
                {
                    await loading.ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OperationCanceledException || model.LoadError is not null)
                {
                    // Already logged; nothing was loaded.
                }
            }

            if (model.OwnsRunner && model.Runner is { } runner)
            {
                await runner.DisposeAsync().ConfigureAwait(false);
            }
        }

        _stopping.Dispose();
    }

    private ServedModel OnDemand(ModelCatalogEntry entry)
    {
        var name = ModelName.Normalize(entry.Name);
        lock (_lock)
        {
            if (_onDemand.TryGetValue(name, out var known) && (known.IsReady || known.Loading is not null || known.Leases > 0 || known.Entry?.ModelPath == entry.ModelPath))
            {
                return known;
            }

            var path = entry.ModelPath;
            var model = new ServedModel(name, async (services, cancellationToken) =>
            {
                var options = new OnnxModelRunnerOptions { ModelId = name, ChatTemplate = entry.Template };
                _options.ConfigureCatalogRunner?.Invoke(options);
                options.LoggerFactory ??= (ILoggerFactory?)services.GetService(typeof(ILoggerFactory));
                return await OnnxModelRunner.LoadAsync(path, options, null, cancellationToken).ConfigureAwait(false);
            }, ownsRunner: true, pinned: false, entry);
            _onDemand[name] = model;
            return model;
        }
    }

    private async Task<IReadOnlyList<string>> KnownNamesAsync(CancellationToken cancellationToken) =>
        [.. (await ListAsync(cancellationToken).ConfigureAwait(false)).Select(m => m.Name)];

    // Called under the lock: frees room for the model by choosing idle on-demand models to unload, least recently used first.
    private bool MakeRoom(ServedModel model, List<(ServedModel Model, IModelRunner Runner)> unloaded)
    {
        List<ServedModel> evicted = [];
        var occupied = _models.Concat(_onDemand.Values).Where(m => m != model && (m.IsReady || m.Loading is not null)).ToList();
        var budget = _options.MaxLoadedModelBytes ?? InferaServerOptions.DefaultMemoryBudget();
        if (model.SizeBytes > budget)
        {
            throw new OpenAIErrorException(507, $"The model '{model.Name}' needs about {model.SizeBytes / (1024 * 1024)} MiB, more than the server's memory budget of {budget / (1024 * 1024)} MiB (--max-memory).", OpenAIErrorException.ServerError, null, "insufficient_memory");
        }

        while (occupied.Count + 1 > _options.MaxLoadedModels || occupied.Sum(m => m.SizeBytes) + model.SizeBytes > budget)
        {
            var victim = occupied.Where(m => !m.Pinned && m.Leases == 0 && m.IsReady).MinBy(m => m.LastUsed);
            if (victim is null)
            {
                if (occupied.All(m => m.Pinned))
                {
                    throw new OpenAIErrorException(503, $"The model '{model.Name}' cannot be loaded: the pinned models fill the server's limits ({_options.MaxLoadedModels} models, {budget / (1024 * 1024)} MiB).", OpenAIErrorException.ServerError, null, "model_not_ready");
                }

                // Every other model is serving a request: wait until one finishes.
                foreach (var undo in evicted)
                {
                    occupied.Add(undo);
                }

                evicted.Clear();
                return false;
            }

            occupied.Remove(victim);
            evicted.Add(victim);
        }

        // Take the victims out of service now, under the lock, so that no request leases them while they are disposed.
        foreach (var victim in evicted)
        {
            if (victim.Reset() is { } runner)
            {
                unloaded.Add((victim, runner));
            }
        }

        return true;
    }

    private async Task DisposeAsync(List<(ServedModel Model, IModelRunner Runner)> unloaded)
    {
        foreach (var (model, runner) in unloaded)
        {
            ServerLog.ModelUnloaded(_logger, model.Name);
            await runner.DisposeAsync().ConfigureAwait(false);
        }

        if (unloaded.Count > 0)
        {
            SignalCapacity();
        }
    }

    private async Task UnloadAsync(List<ServedModel> models)
    {
        foreach (var model in models)
        {
            IModelRunner? runner;
            lock (_lock)
            {
                if (model.Leases > 0)
                {
                    continue;
                }

                runner = model.Reset();
            }

            if (runner is not null)
            {
                ServerLog.ModelUnloaded(_logger, model.Name);
                await runner.DisposeAsync().ConfigureAwait(false);
            }
        }

        if (models.Count > 0)
        {
            SignalCapacity();
        }
    }

    private void UnloadExpired()
    {
        List<ServedModel> expired;
        var now = _options.TimeProvider.GetUtcNow();
        lock (_lock)
        {
            expired = [.. _onDemand.Values.Where(m => m.IsReady && m.Leases == 0 && m.ExpiresAt <= now)];
        }

        if (expired.Count > 0)
        {
            _ = UnloadAsync(expired);
        }
    }

    private void SignalCapacity()
    {
        TaskCompletionSource previous;
        lock (_lock)
        {
            previous = _capacityChanged;
            _capacityChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        previous.TrySetResult();
    }
}
