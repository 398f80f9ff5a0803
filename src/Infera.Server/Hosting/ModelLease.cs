namespace Infera.Server;

/// <summary>A request's hold on a loaded model: while any lease is held the model is not unloaded. Disposing it starts the keep-alive time.</summary>
internal sealed class ModelLease(InferaModelRegistry registry, ServedModel model, TimeSpan? keepAlive, TimeSpan loadDuration) : IDisposable
{
    private int _disposed;

    public ServedModel Model { get; } = model;

    /// <summary>Gets the time this request spent waiting for the model to load (zero when it was loaded already).</summary>
    public TimeSpan LoadDuration { get; } = loadDuration;

    /// <summary>Gets or sets how long the model stays loaded after this request; <see langword="null"/> means the server's default.</summary>
    public TimeSpan? KeepAlive { get; set; } = keepAlive;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            registry.Release(Model, KeepAlive);
        }
    }
}
