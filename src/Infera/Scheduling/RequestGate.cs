namespace Infera;

/// <summary>Admits at most a fixed number of requests at once and lets a bounded number wait for a slot.</summary>
internal sealed class RequestGate : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private readonly int _maxQueued;
    private int _queued;
    private int _running;

    public RequestGate(int maxConcurrent, int maxQueued)
    {
        _slots = new SemaphoreSlim(maxConcurrent, maxConcurrent);
        _maxQueued = maxQueued;
    }

    public int Queued => Volatile.Read(ref _queued);

    public int Running => Volatile.Read(ref _running);

    /// <summary>Gets the slots free now: with none, no request can start before a running one ends.</summary>
    public int Free => _slots.CurrentCount;

    public async ValueTask<Slot> EnterAsync(CancellationToken cancellationToken)
    {
        if (!_slots.Wait(0, CancellationToken.None))
        {
            if (Interlocked.Increment(ref _queued) > _maxQueued)
            {
                Interlocked.Decrement(ref _queued);
                throw new RequestQueueFullException($"The model's request queue is full ({_maxQueued} waiting). Retry later.");
            }

            try
            {
                await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _queued);
            }
        }

        Interlocked.Increment(ref _running);
        return new Slot(this);
    }

    public void Dispose() => _slots.Dispose();

    private void Release()
    {
        Interlocked.Decrement(ref _running);
        _slots.Release();
    }

    internal sealed class Slot(RequestGate gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
