namespace Infera;

/// <summary>A thread that takes batches of queued requests from the <see cref="BatchScheduler"/> and advances their rows together.</summary>
internal interface IBatchWorker : IDisposable
{
    /// <summary>Gets the rows (requests) one batch holds; known once <see cref="StartAsync"/> completed.</summary>
    int BatchCapacity { get; }

    /// <summary>Gets the number of model steps run so far.</summary>
    long Steps { get; }

    /// <summary>Gets the number of requests in the current batch.</summary>
    int ActiveRows { get; }

    /// <summary>Gets the tokens (prompt and generated) held in the current batch's key-value cache.</summary>
    int ResidentTokens { get; }

    /// <summary>Gets a task that completes when the worker's thread has ended (after the scheduler was stopped).</summary>
    Task WhenStopped { get; }

    /// <summary>Starts the worker's thread; fails when what it runs on cannot be created.</summary>
    Task StartAsync();
}
