using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera;

/// <summary>
/// Batches concurrent requests on one model through ONNX Runtime GenAI's native Engine: a few Engines, each owned by
/// its own thread, take batches of queued requests and advance all of a batch's rows with one model step.
/// </summary>
/// <remarks>
/// <para>
/// GenAI 0.18's CPU Engine is static: a batch holds at most four rows, and the next batch is admitted only when the
/// whole current batch has finished. To serve more concurrent requests than one batch holds, the scheduler runs
/// <c>ceil(maxConcurrent / rows)</c> Engines over the same model; an idle Engine takes up to a batch of queued requests.
/// </para>
/// <para>
/// When an Engine becomes idle while other requests are in flight, or just after requests finished (clients that send
/// their next request right away), it waits up to <see cref="BatchWindow"/> for more requests to fill its batch.
/// </para>
/// </remarks>
internal sealed class EngineScheduler : IAsyncDisposable
{
    private static readonly long RecentTicks = Stopwatch.Frequency / 50;
    private const int BatchWindowMilliseconds = 4;
    private static readonly long WindowTicks = Stopwatch.Frequency * BatchWindowMilliseconds / 1000;

    private readonly Channel<EngineJob> _queue = Channel.CreateUnbounded<EngineJob>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<long> _recentCompletions = new();
    private readonly ConcurrentQueue<long> _recentSubmissions = new();
    private readonly List<EngineWorker> _workers = [];
    private int _queued;
    private int _inFlight;
    private int _disposed;
    private long _lastSubmit;
    private long _burstUntil;

    private EngineScheduler()
    {
    }

    /// <summary>Gets how long an idle Engine waits for more requests to fill a batch when more are expected.</summary>
    public static TimeSpan BatchWindow => TimeSpan.FromMilliseconds(BatchWindowMilliseconds);

    /// <summary>Gets the number of Engines.</summary>
    public int EngineCount => _workers.Count;

    /// <summary>Gets the rows one Engine batch holds.</summary>
    public int BatchCapacity { get; private set; }

    /// <summary>Gets the number of requests waiting for an Engine.</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>Gets the number of requests in Engine batches right now.</summary>
    public int ActiveRows => _workers.Sum(w => w.ActiveRows);

    /// <summary>Gets the total number of Engine steps run.</summary>
    public long Steps => _workers.Sum(w => w.Steps);

    /// <summary>Gets the fraction of the Engines' key-value cache capacity (rows × session tokens) that holds tokens now.</summary>
    public double KeyValueCacheUsage(int sessionTokens)
    {
        var capacity = (double)EngineCount * BatchCapacity * Math.Max(1, sessionTokens);
        return capacity <= 0 ? 0 : _workers.Sum(w => w.ResidentTokens) / capacity;
    }

    /// <summary>Creates Engines over a loaded model, enough for <paramref name="maxConcurrent"/> requests at once.</summary>
    /// <exception cref="InferaException">The Engine cannot be created for this model.</exception>
    public static async Task<EngineScheduler> CreateAsync(Model model, int maxConcurrent)
    {
        ArgumentNullException.ThrowIfNull(model);
        var handle = ModelHandleAccessor.GetHandle(model);
        var scheduler = new EngineScheduler();
        try
        {
            var first = new EngineWorker(scheduler, handle, 0);
            scheduler._workers.Add(first);
            await first.StartAsync().ConfigureAwait(false);
            scheduler.BatchCapacity = first.BatchCapacity;
            var count = Math.Max(1, (maxConcurrent + first.BatchCapacity - 1) / first.BatchCapacity);
            for (var i = 1; i < count; i++)
            {
                var worker = new EngineWorker(scheduler, handle, i);
                scheduler._workers.Add(worker);
                await worker.StartAsync().ConfigureAwait(false);
            }

            return scheduler;
        }
        catch
        {
            await scheduler.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Queues a job; its tokens arrive on <see cref="EngineJob.Reader"/>.</summary>
    public void Submit(EngineJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Interlocked.Increment(ref _inFlight);
        Interlocked.Increment(ref _queued);
        var now = Stopwatch.GetTimestamp();
        Trim(_recentSubmissions, now);
        _recentSubmissions.Enqueue(now);
        var previous = Interlocked.Exchange(ref _lastSubmit, now);
        if (now - previous < WindowTicks)
        {
            // Requests arriving close together: an idle Engine should wait a moment for the rest of the burst.
            Volatile.Write(ref _burstUntil, now + WindowTicks);
        }

        if (!_queue.Writer.TryWrite(job))
        {
            Interlocked.Decrement(ref _queued);
            Interlocked.Decrement(ref _inFlight);
            throw new ObjectDisposedException(nameof(OnnxModelRunner), "The model runner was disposed.");
        }
    }

    /// <summary>
    /// Called by an idle worker on its owner thread: blocks until at least one job is queued, then takes up to
    /// <paramref name="capacity"/>. Returns <see langword="false"/> when the scheduler is stopping.
    /// </summary>
    internal bool TakeBatch(int capacity, List<EngineJob> into)
    {
        var reader = _queue.Reader;
        try
        {
            EngineJob? first;
            while (!reader.TryRead(out first))
            {
                if (!reader.WaitToReadAsync(_stop.Token).AsTask().GetAwaiter().GetResult())
                {
                    return false;
                }
            }

            into.Add(first);
            Interlocked.Decrement(ref _queued);
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        while (into.Count < capacity && reader.TryRead(out var next))
        {
            into.Add(next);
            Interlocked.Decrement(ref _queued);
        }

        var expected = Math.Min(capacity, into.Count + ExpectedSoon());
        if (into.Count < expected)
        {
            FillWithin(expected, into);
        }

        return true;
    }

    internal void OnCompleted(EngineJob job)
    {
        Interlocked.Decrement(ref _inFlight);
        var now = Stopwatch.GetTimestamp();
        Trim(_recentCompletions, now);
        _recentCompletions.Enqueue(now);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_workers.Select(w => w.WhenStopped)).ConfigureAwait(false);
        foreach (var worker in _workers)
        {
            worker.Dispose();
        }

        while (_queue.Reader.TryRead(out var job))
        {
            job.Writer.TryComplete(new ObjectDisposedException(nameof(OnnxModelRunner), "The model runner was disposed while the request waited for an Engine."));
        }

        _stop.Dispose();
    }

    /// <summary>
    /// How many more requests are likely to arrive within the batch window: during a burst of arrivals, as many as a
    /// batch holds; otherwise one per request that finished recently and whose client has not sent its next one yet.
    /// </summary>
    private int ExpectedSoon()
    {
        // Trim first, whatever the answer: the timestamps must not pile up while requests keep arriving in bursts.
        var now = Stopwatch.GetTimestamp();
        Trim(_recentCompletions, now);
        Trim(_recentSubmissions, now);
        if (now < Volatile.Read(ref _burstUntil))
        {
            return int.MaxValue / 2;
        }

        return Math.Max(0, _recentCompletions.Count - _recentSubmissions.Count);
    }

    private static void Trim(ConcurrentQueue<long> timestamps, long now)
    {
        while (timestamps.TryPeek(out var at) && now - at > RecentTicks)
        {
            timestamps.TryDequeue(out _);
        }
    }

    private void FillWithin(int expected, List<EngineJob> into)
    {
        var reader = _queue.Reader;
        var deadline = Stopwatch.GetTimestamp() + WindowTicks;
        while (into.Count < expected)
        {
            var remaining = deadline - Stopwatch.GetTimestamp();
            if (remaining <= 0)
            {
                return;
            }

            if (reader.TryRead(out var job))
            {
                into.Add(job);
                Interlocked.Decrement(ref _queued);
                continue;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(TimeSpan.FromSeconds((double)remaining / Stopwatch.Frequency));
            try
            {
                if (!reader.WaitToReadAsync(timeout.Token).AsTask().GetAwaiter().GetResult())
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
