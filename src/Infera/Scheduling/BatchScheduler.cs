using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera;

/// <summary>
/// Batches concurrent requests on one model: a few workers, each on its own thread, take batches of queued requests
/// and advance all of a batch's rows with one model step. A worker is a static-batch generator
/// (<see cref="GeneratorBatchWorker"/>, the default) or ONNX Runtime GenAI's native Engine (<see cref="EngineWorker"/>),
/// as <see cref="BatchingKind"/> says.
/// </summary>
/// <remarks>
/// <para>
/// Both kinds batch statically: a worker takes the next batch only when the whole current batch has finished. To serve
/// more concurrent requests than one batch holds, the scheduler runs <c>ceil(maxConcurrent / rows)</c> workers over the
/// same model; an idle worker takes up to a batch of queued requests.
/// </para>
/// <para>
/// When a worker becomes idle while other requests are in flight, or just after requests finished (clients that send
/// their next request right away), it waits up to <see cref="BatchWindow"/> for more requests to fill its batch.
/// </para>
/// </remarks>
internal sealed class BatchScheduler : IAsyncDisposable
{
    private static readonly long RecentTicks = Stopwatch.Frequency / 50;
    private const int BatchWindowMilliseconds = 4;
    private static readonly long WindowTicks = Stopwatch.Frequency * BatchWindowMilliseconds / 1000;

    private readonly Channel<BatchJob> _queue = Channel.CreateUnbounded<BatchJob>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<long> _recentCompletions = new();
    private readonly ConcurrentQueue<long> _recentSubmissions = new();
    private readonly List<IBatchWorker> _workers = [];
    private readonly ConcurrentDictionary<LoneRequest, byte> _lone = new();
    private readonly ConcurrentQueue<LoneRequest> _askedAhead = new();
    [ThreadStatic]
    private static bool t_holdsBatch;
    private int _queued;
    private int _busyWorkers;
    private long _moved;
    private int _inFlight;
    private int _disposed;
    private long _lastSubmit;
    private long _burstUntil;

    private BatchScheduler()
    {
    }

    /// <summary>Gets how long an idle worker waits for more requests to fill a batch when more are expected.</summary>
    public static TimeSpan BatchWindow => TimeSpan.FromMilliseconds(BatchWindowMilliseconds);

    /// <summary>Gets what the workers advance their batches with.</summary>
    public BatchingKind Kind { get; private set; }

    /// <summary>Gets the number of workers (Engines or batch generators).</summary>
    public int WorkerCount => _workers.Count;

    /// <summary>Gets the rows one worker's batch holds.</summary>
    public int BatchCapacity { get; private set; }

    /// <summary>Gets the number of requests waiting for a worker.</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>Gets the number of requests in batches right now.</summary>
    public int ActiveRows => _workers.Sum(w => w.ActiveRows);

    /// <summary>Gets the total number of model steps the workers ran.</summary>
    public long Steps => _workers.Sum(w => w.Steps);

    /// <summary>
    /// Gets a value indicating whether more requests are likely within the batch window: a burst of arrivals, or requests
    /// that finished in a batch just now whose clients have not sent their next one yet.
    /// </summary>
    public bool ExpectsMore => ExpectedSoon() > 0;

    /// <summary>
    /// Gets or sets how many more requests the runner can admit now, when it limits them (its free concurrency slots).
    /// With none free, no request can arrive before one ends, so an idle worker starts its batch at once instead of
    /// waiting the batch window for rows that cannot come (8 concurrent requests on 2 workers of 4 rows, one of them on
    /// a generator of its own: the second worker used to wait the whole window, and then for the thread pool to run
    /// the window's timer).
    /// </summary>
    internal Func<int>? FreeSlots { get; set; }

    /// <summary>
    /// Gets or sets how many generators can step at once without sharing a processor (processors divided by the threads
    /// one operator uses). When a batch would make more step than that, its worker asks lone requests to move into its
    /// free rows (<see cref="LoneRequest"/>). <see cref="int.MaxValue"/> (the default): lone requests never move.
    /// </summary>
    internal int ParallelGenerators { get; set; } = int.MaxValue;

    /// <summary>Gets a value indicating whether lone requests may move into batches (<see cref="ParallelGenerators"/> is set).</summary>
    internal bool MovesLoneRequests => ParallelGenerators < int.MaxValue;

    /// <summary>Gets the number of requests that moved from a generator of their own into a batch.</summary>
    public long MovedRequests => Interlocked.Read(ref _moved);

    /// <summary>Gets a value indicating whether the scheduler is being disposed: workers stop their batches.</summary>
    internal bool IsStopping => Volatile.Read(ref _disposed) != 0;

    /// <summary>Gets the fraction of the workers' key-value cache capacity (rows × session tokens) that holds tokens now.</summary>
    public double KeyValueCacheUsage(int sessionTokens)
    {
        var capacity = (double)WorkerCount * BatchCapacity * Math.Max(1, sessionTokens);
        return capacity <= 0 ? 0 : _workers.Sum(w => w.ResidentTokens) / capacity;
    }

    /// <summary>Creates Engines over a loaded model, enough for <paramref name="maxConcurrent"/> requests at once.</summary>
    /// <exception cref="InferaException">The Engine cannot be created for this model.</exception>
    public static Task<BatchScheduler> CreateAsync(Model model, int maxConcurrent) =>
        CreateAsync(BatchingKind.Engine, maxConcurrent, (scheduler, index) => new EngineWorker(scheduler, ModelHandleAccessor.GetHandle(model), index));

    /// <summary>Creates batch generators over a loaded model, enough for <paramref name="maxConcurrent"/> requests at once.</summary>
    public static Task<BatchScheduler> CreateAsync(Model model, int maxConcurrent, GeneratorBatchSettings settings) =>
        CreateAsync(BatchingKind.Generator, maxConcurrent, (scheduler, index) => new GeneratorBatchWorker(scheduler, model, settings, index));

    private static async Task<BatchScheduler> CreateAsync(BatchingKind kind, int maxConcurrent, Func<BatchScheduler, int, IBatchWorker> create)
    {
        var scheduler = new BatchScheduler { Kind = kind };
        try
        {
            var first = create(scheduler, 0);
            scheduler._workers.Add(first);
            await first.StartAsync().ConfigureAwait(false);
            scheduler.BatchCapacity = first.BatchCapacity;
            var count = Math.Max(1, (maxConcurrent + first.BatchCapacity - 1) / first.BatchCapacity);
            for (var i = 1; i < count; i++)
            {
                var worker = create(scheduler, i);
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

    /// <summary>Queues a job; its tokens arrive on <see cref="BatchJob.Reader"/>.</summary>
    public void Submit(BatchJob job)
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
            // Requests arriving close together: an idle worker should wait a moment for the rest of the burst.
            Volatile.Write(ref _burstUntil, now + WindowTicks);
        }

        if (!_queue.Writer.TryWrite(job))
        {
            Interlocked.Decrement(ref _queued);
            Interlocked.Decrement(ref _inFlight);
            throw new ObjectDisposedException(nameof(OnnxModelRunner), "The model runner was disposed.");
        }
    }

    /// <summary>Registers a request running on a generator of its own, which a batch may ask to move in until <see cref="Unregister"/>.</summary>
    public void Register(LoneRequest request) => _lone.TryAdd(request, 0);

    /// <summary>Forgets a lone request (it ended, or moved).</summary>
    public void Unregister(LoneRequest request) => _lone.TryRemove(request, out _);

    /// <summary>Queues the rest of a lone request that moved into a batch (<see cref="LoneRequest.TryCommit"/>).</summary>
    public void SubmitMoved(BatchJob job)
    {
        ArgumentNullException.ThrowIfNull(job.MovedFrom);
        Interlocked.Increment(ref _moved);
        Submit(job);
    }

    /// <summary>
    /// Called by an idle worker on its owner thread: blocks until at least one job is queued, then takes up to
    /// <paramref name="capacity"/>. Returns <see langword="false"/> when the scheduler is stopping. The worker counts as
    /// stepping from a <see langword="true"/> return until its next call.
    /// </summary>
    internal bool TakeBatch(int capacity, List<BatchJob> into)
    {
        if (t_holdsBatch)
        {
            t_holdsBatch = false;
            Interlocked.Decrement(ref _busyWorkers);
        }

        var reader = _queue.Reader;
        try
        {
            BatchJob? first;
            while (!reader.TryRead(out first))
            {
                if (!reader.WaitToReadAsync(_stop.Token).AsTask().GetAwaiter().GetResult())
                {
                    return false;
                }
            }

            Take(first, into);
            Interlocked.Decrement(ref _queued);
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        while (into.Count < capacity && reader.TryRead(out var next))
        {
            Take(next, into);
            Interlocked.Decrement(ref _queued);
        }

        var asked = AskLoneRequests(capacity - into.Count, into[0].Options);
        var coming = asked.Count(r => r.IsComing);
        var expected = Math.Min(capacity, into.Count + coming + ExpectedSoon());
        if (into.Count < expected)
        {
            FillWithin(expected, into, capacity, asked, coming > 0);
        }

        t_holdsBatch = true;
        Interlocked.Increment(ref _busyWorkers);
        if (into.Count == capacity)
        {
            AskAhead(capacity, into[0].Options);
        }

        return true;
    }

    /// <summary>Adds a job taken from the queue to a batch; a moved request's job has arrived (at this or another worker).</summary>
    private static void Take(BatchJob job, List<BatchJob> into)
    {
        job.MovedFrom?.MarkArrived();
        into.Add(job);
    }

    /// <summary>
    /// The lone requests this batch waits for: those asked ahead by a worker whose batch was full, or, when this batch
    /// would make more generators step than the processors run at once, lone requests of the same search asked now to
    /// move into its free rows (at most <paramref name="room"/>), those with the most tokens left first.
    /// </summary>
    private List<LoneRequest> AskLoneRequests(int room, GenerationOptions options)
    {
        var ahead = new List<LoneRequest>();
        while (ahead.Count < room && _askedAhead.TryDequeue(out var early))
        {
            ahead.Add(early);
        }

        if (ahead.Count > 0)
        {
            return ahead;
        }

        if (room <= 0 || _lone.IsEmpty)
        {
            return [];
        }

        var stepping = Volatile.Read(ref _busyWorkers) + 1 + _lone.Count;
        if (stepping <= ParallelGenerators)
        {
            return [];
        }

        return Ask(room, options);
    }

    /// <summary>Asks up to <paramref name="count"/> lone requests of the same search, worth moving, those with the most tokens left first.</summary>
    private List<LoneRequest> Ask(int count, GenerationOptions options)
    {
        var asked = new List<LoneRequest>();
        foreach (var request in _lone.Keys.Where(r => r.WorthMoving && GeneratorBatchWorker.SameSearch(r.Options, options)).OrderByDescending(r => r.MaxNewTokens - r.Generated))
        {
            if (asked.Count == count)
            {
                break;
            }

            if (request.TryAsk())
            {
                asked.Add(request);
            }
        }

        return asked;
    }

    /// <summary>
    /// A full batch while more requests are on their way: the next idle worker will start another batch, so lone
    /// requests are asked now, to have their rows ready when it does.
    /// </summary>
    private void AskAhead(int capacity, GenerationOptions options)
    {
        if (_lone.IsEmpty)
        {
            return;
        }

        var busy = Volatile.Read(ref _busyWorkers);
        if (busy >= _workers.Count || Queued + ExpectedSoon() == 0 || busy + 1 + _lone.Count <= ParallelGenerators)
        {
            return;
        }

        foreach (var request in Ask(capacity, options))
        {
            _askedAhead.Enqueue(request);
        }
    }

    internal void OnCompleted(BatchJob job)
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
            job.Writer.TryComplete(new ObjectDisposedException(nameof(OnnxModelRunner), "The model runner was disposed while the request waited for a batch."));
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
        return Expected(now < Volatile.Read(ref _burstUntil), _recentCompletions.Count, _recentSubmissions.Count, FreeSlots?.Invoke());
    }

    /// <summary>
    /// How many more requests to expect within the batch window: during a burst, as many as the runner can still admit
    /// (unbounded when it does not say); otherwise one per recent completion not yet followed by a submission; never
    /// more than the free slots.
    /// </summary>
    internal static int Expected(bool burst, int recentCompletions, int recentSubmissions, int? freeSlots)
    {
        var free = freeSlots ?? int.MaxValue / 2;
        return burst ? free : Math.Min(free, Math.Max(0, recentCompletions - recentSubmissions));
    }

    private static void Trim(ConcurrentQueue<long> timestamps, long now)
    {
        while (timestamps.TryPeek(out var at) && now - at > RecentTicks)
        {
            timestamps.TryDequeue(out _);
        }
    }

    /// <summary>
    /// Waits up to the batch window for <paramref name="into"/> to hold <paramref name="expected"/> jobs. Asks that lone
    /// requests have not answered by then are taken back; the job of a loop that committed to moving is on its way and
    /// is waited for (one window more at most) while the batch has room.
    /// </summary>
    private void FillWithin(int expected, List<BatchJob> into, int capacity, List<LoneRequest> asked, bool askedComing)
    {
        try
        {
            FillUntil(expected, into, waitForAsked: askedComing);
        }
        finally
        {
            var coming = 0;
            foreach (var request in asked)
            {
                if (!request.TryWithdraw() && request.IsComing)
                {
                    coming++;
                }
            }

            if (coming > 0 && !IsStopping)
            {
                FillUntil(Math.Min(capacity, into.Count + coming), into, waitForAsked: true);
            }
        }
    }

    private void FillUntil(int expected, List<BatchJob> into, bool waitForAsked)
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
                Take(job, into);
                Interlocked.Decrement(ref _queued);
                continue;
            }

            if (!waitForAsked && FreeSlots?.Invoke() == 0)
            {
                // Every slot is taken and nothing is queued here: nothing more can arrive before a request ends.
                return;
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
