using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;

namespace Infera.Server;

/// <summary>The models an Infera server answers for, and whether they are loaded.</summary>
/// <remarks>Registered as a singleton by <c>AddInferaServer</c>; loading starts when the application starts (or on the first request).
/// Runners the registry loaded are disposed with it; runners given to <see cref="InferaServerOptions.AddModel(IModelRunner, string?)"/> are not.
/// This type is thread-safe.</remarks>
public sealed class InferaModelRegistry : IAsyncDisposable
{
    private readonly IReadOnlyList<ServedModel> _models;
    private readonly IServiceProvider _services;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private int _disposed;

    internal InferaModelRegistry(InferaServerOptions options, IServiceProvider services, ILogger<InferaModelRegistry> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _models = options.Models;
        _services = services;
        _logger = logger;
    }

    /// <summary>Gets the ids of the served models, in the order they were added.</summary>
    public IReadOnlyList<string> ModelIds => [.. _models.Select(m => m.Id)];

    /// <summary>Gets a value indicating whether every served model is loaded.</summary>
    public bool IsReady => _models.All(m => m.IsReady);

    /// <summary>Starts loading the models (if not started) and waits until all are loaded.</summary>
    /// <param name="cancellationToken">The <see cref="CancellationToken"/> to monitor for cancellation requests. The default is <see cref="CancellationToken.None"/>.</param>
    /// <returns>A task that completes when every model is loaded, or fails with the first load error.</returns>
    public Task WaitUntilReadyAsync(CancellationToken cancellationToken = default) =>
        Task.WhenAll(_models.Select(StartLoading)).WaitAsync(cancellationToken);

    /// <summary>Gets the runner serving a model id, once it is loaded.</summary>
    /// <param name="modelId">The model id.</param>
    /// <param name="runner">The runner, when the model is served and loaded.</param>
    /// <returns><see langword="true"/> when the model is served and loaded.</returns>
    public bool TryGetRunner(string modelId, [NotNullWhen(true)] out IModelRunner? runner)
    {
        runner = Find(modelId)?.Runner;
        return runner is not null;
    }

    internal IReadOnlyList<ServedModel> Models => _models;

    internal ServedModel? Find(string? modelId) => _models.FirstOrDefault(m => string.Equals(m.Id, modelId, StringComparison.Ordinal));

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

        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var model in _models)
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
}
