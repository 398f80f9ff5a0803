namespace Infera;

/// <summary>
/// Keeps the key/value state of finished requests (their generators) within a memory budget, so that a request whose
/// prompt starts like an earlier sequence continues from the longest shared prefix instead of recomputing it.
/// </summary>
/// <remarks>
/// <para>
/// A request takes a sequence out of the cache (so no other request and no eviction can touch it while it runs) and
/// gives it back when it finishes; eviction is least-recently-used over the idle sequences only. Two concurrent
/// requests with the same prefix cannot share one sequence: the second one computes its prompt, and both sequences are
/// kept afterwards (budget permitting).
/// </para>
/// <para>Thread-safe; every method takes one short lock. Generators are disposed outside the lock.</para>
/// </remarks>
internal sealed class PrefixCache : IDisposable
{
    /// <summary>A shorter match than this is taken only when it covers at least half of the kept sequence (taking it discards the rest of that sequence).</summary>
    private const int MinimumUsefulMatch = 32;

    private readonly object _lock = new();
    private readonly List<CachedSequence> _idle = [];
    private long _clock;
    private long _bytes;
    private long _hits;
    private long _misses;
    private long _hitTokens;
    private long _evictions;
    private bool _disposed;

    public PrefixCache(PrefixCacheLayout layout, long budgetBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(budgetBytes);
        Layout = layout;
        BudgetBytes = budgetBytes;
    }

    public PrefixCacheLayout Layout { get; }

    /// <summary>Gets the most bytes idle sequences may hold.</summary>
    public long BudgetBytes { get; }

    /// <summary>Gets the bytes the idle sequences hold now.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Gets the number of idle sequences.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _idle.Count;
            }
        }
    }

    /// <summary>Gets the requests that continued a kept sequence.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Gets the cacheable requests that found no sequence to continue.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>Gets the prompt tokens taken from kept sequences instead of computed.</summary>
    public long HitTokens => Interlocked.Read(ref _hitTokens);

    /// <summary>Gets the sequences dropped to stay within the budget.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>How many of <paramref name="prompt"/>'s tokens a request may take from a sequence, 0 when none.</summary>
    public int UsableLength(CachedSequence sequence, ReadOnlySpan<int> prompt, string key, int maxLength)
    {
        if (sequence.Key != key || sequence.Capacity < maxLength)
        {
            return 0;
        }

        var shared = SharedPrefix(sequence, prompt);
        return shared > 0 && (shared >= MinimumUsefulMatch || 2 * shared >= sequence.ReusableLength) ? shared : 0;
    }

    /// <summary>
    /// The tokens <paramref name="prompt"/> shares with the start of <paramref name="sequence"/>, as far as a request may
    /// take them: at least one prompt token is computed anew (its logits choose the first new token), and with separate
    /// prompt and step accuracy levels the rest must be a several-token step, as it is without the cache.
    /// </summary>
    private int SharedPrefix(CachedSequence sequence, ReadOnlySpan<int> prompt)
    {
        var limit = Math.Min(sequence.ReusableLength, prompt.Length - (Layout.SplitAccuracy ? 2 : 1));
        return limit <= 0 ? 0 : prompt[..limit].CommonPrefixLength(sequence.Tokens.AsSpan(0, limit));
    }

    /// <summary>
    /// The longest prefix of <paramref name="prompt"/> an idle sequence would give it now, 0 when none would (a hint:
    /// another request may take it first).
    /// </summary>
    public int LongestMatch(ReadOnlySpan<int> prompt, string key, int maxLength)
    {
        lock (_lock)
        {
            var longest = 0;
            foreach (var sequence in _idle)
            {
                longest = Math.Max(longest, UsableLength(sequence, prompt, key, maxLength));
            }

            return longest;
        }
    }

    /// <summary>Takes the idle sequence sharing the longest prefix with <paramref name="prompt"/> (the most recently used among equals), or returns <see langword="null"/>.</summary>
    public PrefixCacheHit? TryTake(ReadOnlySpan<int> prompt, string key, int maxLength)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var best = -1;
            var bestLength = 0;
            for (var i = 0; i < _idle.Count; i++)
            {
                var length = UsableLength(_idle[i], prompt, key, maxLength);
                if (length > bestLength || (length == bestLength && length > 0 && _idle[i].LastUsed > _idle[best].LastUsed))
                {
                    best = i;
                    bestLength = length;
                }
            }

            if (best < 0)
            {
                // No useful prefix. Creating a generator still costs more than recomputing the prompt on a kept one: GenAI
                // 0.18 takes 13-27 ms even for stories260K against 0.1-0.5 ms for a rewind (docs/benchmarks/generation.md),
                // and a new generator's key/value buffers are fresh pages (114-142 ms for 2,080 positions of a
                // Qwen2.5-0.5B-sized model, docs/benchmarks/model-builder.md). Continue the least recently used sequence —
                // the one eviction would drop next — rewound to what it shares, if anything.
                best = LeastRecentlyUsedReusable(prompt, key, maxLength, out bestLength);
            }

            if (best < 0 || bestLength == 0)
            {
                Interlocked.Increment(ref _misses);
                if (best < 0)
                {
                    return null;
                }
            }
            else
            {
                Interlocked.Increment(ref _hits);
                Interlocked.Add(ref _hitTokens, bestLength);
            }

            var sequence = _idle[best];
            _idle.RemoveAt(best);
            Interlocked.Add(ref _bytes, -sequence.Bytes);
            return new PrefixCacheHit(sequence, bestLength);
        }
    }

    /// <summary>
    /// The least recently used idle sequence a request can continue, rewound to the prefix it shares (none at all is
    /// fine: rewound to the start, a kept generator computes the prompt as a new one would), or -1. Not where tokens must
    /// be appended one at a time after a rewind: a long prompt would then cost a step per token.
    /// </summary>
    private int LeastRecentlyUsedReusable(ReadOnlySpan<int> prompt, string key, int maxLength, out int shared)
    {
        shared = 0;
        if (Layout.AppendOneAtATime)
        {
            return -1;
        }

        var chosen = -1;
        for (var i = 0; i < _idle.Count; i++)
        {
            var sequence = _idle[i];
            if (sequence.Key != key || sequence.Capacity < maxLength || (chosen >= 0 && sequence.LastUsed >= _idle[chosen].LastUsed))
            {
                continue;
            }

            chosen = i;
        }

        if (chosen >= 0)
        {
            shared = SharedPrefix(_idle[chosen], prompt);
        }

        return chosen;
    }

    /// <summary>Counts a cacheable request that did not look for a sequence (it went to the batching Engine).</summary>
    public void CountMiss() => Interlocked.Increment(ref _misses);

    /// <summary>Gives a finished request's sequence to the cache, evicting least-recently-used idle sequences to stay within the budget.</summary>
    public void Return(CachedSequence sequence)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        List<CachedSequence>? dropped = null;
        lock (_lock)
        {
            if (_disposed || sequence.Bytes > BudgetBytes || sequence.ReusableLength == 0)
            {
                (dropped ??= []).Add(sequence);
            }
            else
            {
                sequence.LastUsed = ++_clock;
                _idle.Add(sequence);
                Interlocked.Add(ref _bytes, sequence.Bytes);
                while (Interlocked.Read(ref _bytes) > BudgetBytes)
                {
                    var oldest = 0;
                    for (var i = 1; i < _idle.Count; i++)
                    {
                        if (_idle[i].LastUsed < _idle[oldest].LastUsed)
                        {
                            oldest = i;
                        }
                    }

                    var evicted = _idle[oldest];
                    _idle.RemoveAt(oldest);
                    Interlocked.Add(ref _bytes, -evicted.Bytes);
                    Interlocked.Increment(ref _evictions);
                    (dropped ??= []).Add(evicted);
                }
            }
        }

        if (dropped is not null)
        {
            foreach (var item in dropped)
            {
                item.Dispose();
            }
        }
    }

    /// <summary>Drops every idle sequence.</summary>
    public void Clear()
    {
        CachedSequence[] dropped;
        lock (_lock)
        {
            dropped = [.. _idle];
            _idle.Clear();
            Interlocked.Exchange(ref _bytes, 0);
        }

        foreach (var item in dropped)
        {
            item.Dispose();
        }
    }

    /// <summary>Drops every idle sequence; sequences returned later are disposed at once.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        Clear();
    }
}
