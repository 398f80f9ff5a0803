using System.Collections.Concurrent;

namespace Infera;

/// <summary>
/// Long-lived threads that run token loops, one loop at a time each. Reusing threads keeps thread creation and ONNX
/// Runtime's per-thread warm-up out of every request's time to first token.
/// </summary>
/// <remarks>
/// Every scheduled loop gets a thread at once: an idle worker, or a new one. Since the runner's <see cref="RequestGate"/>
/// admits a bounded number of requests, the number of threads stays within that bound. Threads are background threads.
/// </remarks>
internal sealed class GenerationWorkers : IDisposable
{
    [ThreadStatic]
    private static bool t_isWorker;

    private readonly BlockingCollection<(Action Work, TaskCompletionSource Completion)> _queue = new();
    private readonly string _name;
    private int _threads;
    private int _idle;

    public GenerationWorkers(string name) => _name = name;

    /// <summary>
    /// Gets a value indicating whether the current thread is a generation worker. A reader's code can run on one: token
    /// updates are handed over with synchronous continuations, so a reader without a synchronization context continues
    /// on the worker that produced the token instead of waiting for a thread-pool thread.
    /// </summary>
    public static bool IsCurrentThreadWorker => t_isWorker;

    /// <summary>Creates the completion a loop reports to; register it before <see cref="Start"/> so that disposal can wait for it.</summary>
    public static TaskCompletionSource CreateCompletion() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Runs <paramref name="work"/> on a worker thread and completes <paramref name="completion"/> when it ends.</summary>
    public void Start(Action work, TaskCompletionSource completion)
    {
        // Reserve an idle worker for this item, or start a new one: each queued item has a thread that will take it.
        while (true)
        {
            var idle = Volatile.Read(ref _idle);
            if (idle == 0)
            {
                StartThread();
                break;
            }

            if (Interlocked.CompareExchange(ref _idle, idle - 1, idle) == idle)
            {
                break;
            }
        }

        _queue.Add((work, completion));
    }

    public void Dispose() => _queue.CompleteAdding();

    private void StartThread()
    {
        var number = Interlocked.Increment(ref _threads);
        new Thread(Loop) { IsBackground = true, Name = $"{_name} generation {number}" }.Start();
    }

    private void Loop()
    {
        t_isWorker = true;
        foreach (var (work, completion) in _queue.GetConsumingEnumerable())
        {
            try
            {
                work();
                completion.TrySetResult();
            }
            catch (Exception ex)
            {
                completion.TrySetException(ex);
            }

            Interlocked.Increment(ref _idle);
        }
    }
}
