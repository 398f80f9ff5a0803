namespace Infera.Server;

/// <summary>One model the server answers for: its id, how it is loaded, and once loaded its runner and chat client.</summary>
internal sealed class ServedModel(string id, Func<IServiceProvider, CancellationToken, Task<IModelRunner>> loader, bool ownsRunner)
{
    private readonly Lock _gate = new();
    private volatile IModelRunner? _runner;
    private volatile InferaChatClient? _chatClient;

    public string Id { get; } = id;

    public bool OwnsRunner { get; } = ownsRunner;

    public long Created { get; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public Task? Loading { get; private set; }

    public IModelRunner? Runner => _runner;

    public InferaChatClient? ChatClient => _chatClient;

    public Exception? LoadError { get; private set; }

    public bool IsReady => _runner is not null;

    /// <summary>Starts loading once; later calls return the same task.</summary>
    public Task StartLoading(IServiceProvider services, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Loading ??= LoadAsync(services, cancellationToken);
        }
    }

    private async Task LoadAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        try
        {
            // Loaders may block (reading the model); keep them off the caller's thread.
            var runner = await Task.Run(() => loader(services, cancellationToken), cancellationToken).ConfigureAwait(false);

            // Limits are capped by the context: a request asking for more than fits gets what fits and finishes with "length".
            _chatClient = new InferaChatClient(runner, new InferaChatClientOptions { ContextOverflow = ContextOverflowPolicy.LimitNewTokens });
            _runner = runner;
        }
        catch (Exception ex)
        {
            LoadError = ex;
            throw;
        }
    }
}
