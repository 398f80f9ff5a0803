namespace Infera.Remote;

/// <summary>
/// The routing rule of Infera.Remote's endpoint pool and of <c>infera router</c>: least outstanding requests, with
/// conversation affinity. A request with an affinity key (<see cref="PromptAffinity"/>: a hash of the start of its prompt)
/// goes to the candidate that the key ranks first (rendezvous hashing: the ranking of the remaining candidates does not
/// change when one leaves or returns), so that the turns of a conversation meet their prefix cache there; unless that
/// candidate has more than <see cref="BalanceThreshold"/> outstanding requests above the least-loaded one, in which case
/// the least-loaded candidate serves it. A request without a key goes to the least-loaded candidate (ties in turn).
/// </summary>
public sealed class LeastLoadAffinityRule
{
    private int _turn;

    /// <summary>Initializes a new instance of the <see cref="LeastLoadAffinityRule"/> class.</summary>
    /// <param name="balanceThreshold">How many outstanding requests the affinity candidate may have above the least-loaded candidate before load wins.</param>
    public LeastLoadAffinityRule(int balanceThreshold = DefaultBalanceThreshold)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(balanceThreshold);
        BalanceThreshold = balanceThreshold;
    }

    /// <summary>The default of <see cref="BalanceThreshold"/>.</summary>
    public const int DefaultBalanceThreshold = 4;

    /// <summary>Gets how many outstanding requests the affinity candidate may have above the least-loaded one.</summary>
    public int BalanceThreshold { get; }

    /// <summary>Chooses a candidate.</summary>
    /// <typeparam name="T">The candidate type.</typeparam>
    /// <param name="candidates">The healthy candidates that can serve the request.</param>
    /// <param name="id">A candidate's stable name (its address).</param>
    /// <param name="load">A candidate's outstanding requests.</param>
    /// <param name="affinityKey">The request's affinity key, or <see langword="null"/>.</param>
    /// <returns>The index of the chosen candidate, or -1 when there are none.</returns>
    public int Choose<T>(IReadOnlyList<T> candidates, Func<T, string> id, Func<T, int> load, ulong? affinityKey)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(load);
        if (candidates.Count <= 1)
        {
            return candidates.Count - 1;
        }

        var loads = new int[candidates.Count];
        int minLoad = int.MaxValue;
        for (int i = 0; i < loads.Length; i++)
        {
            loads[i] = load(candidates[i]);
            minLoad = Math.Min(minLoad, loads[i]);
        }

        if (affinityKey is { } key)
        {
            int best = -1;
            ulong bestScore = 0;
            for (int i = 0; i < candidates.Count; i++)
            {
                ulong score = Mix(key ^ PromptAffinity.Hash(id(candidates[i])));
                if (best < 0 || score > bestScore)
                {
                    best = i;
                    bestScore = score;
                }
            }

            if (loads[best] - minLoad <= BalanceThreshold)
            {
                return best;
            }
        }

        // Least loaded; ties taken in turn so that idle candidates share the requests without keys.
        int start = (int)((uint)Interlocked.Increment(ref _turn) % (uint)candidates.Count);
        for (int n = 0; n < candidates.Count; n++)
        {
            int i = (start + n) % candidates.Count;
            if (loads[i] == minLoad)
            {
                return i;
            }
        }

        return start;
    }

    // SplitMix64's finalizer: spreads the bits of the combined key and candidate hash.
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
