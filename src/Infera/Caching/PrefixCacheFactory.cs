namespace Infera;

/// <summary>Where the runner meets the prefix cache: creating it for a model, and choosing between a kept generator and the batching Engine.</summary>
internal static class PrefixCacheFactory
{
    /// <summary>Creates the cache for a model, or returns <see langword="null"/> when <paramref name="budgetBytes"/> is 0.</summary>
    public static PrefixCache? Create(ModelFolder folder, int contextLength, long? budgetBytes)
    {
        if (budgetBytes == 0)
        {
            return null;
        }

        var layout = PrefixCacheLayout.Read(folder, contextLength);
        return new PrefixCache(layout, budgetBytes ?? layout.DefaultBudgetBytes());
    }

    /// <summary>
    /// How many times longer than the tokens a request may generate its kept prefix must be for a kept generator to beat
    /// a shared batch. A batch row decodes a token for about half of what a generator of its own costs (stories260K-gqa,
    /// 4 rows: 34 against 71 us per token; a bandwidth-bound model gains more), while a prompt token computed again costs
    /// about a quarter of the saving (4 rows of 32 prompt tokens in 1.1 ms: 8.6 us per token); with a 0.5B model, prompt
    /// tokens go through 5-6 times faster than single decode steps and a row of 4 saves about three quarters of a step.
    /// Either way the kept prefix wins only when it is about 4 times the new tokens.
    /// </summary>
    internal const int PrefixToNewTokensForGenerator = 4;

    /// <summary>
    /// Whether a request a batch could take should run on a generator instead: when nothing else is running and no other
    /// request is expected within the batch window (a generator run alone is as fast as a one-row batch, and its state is
    /// kept for the next request; when the rows of a batch just finished, their clients' next requests are about to arrive
    /// and share a batch), or when a kept sequence shares so much of its prompt that continuing it costs less than the
    /// batch would save (<see cref="PrefixToNewTokensForGenerator"/>). Both give the same tokens.
    /// </summary>
    public static bool PreferGenerator(PrefixCache? cache, PrefixCacheSession? session, GenerationPlan plan, BatchScheduler scheduler, int runningRequests)
    {
        if (cache is null || session is null)
        {
            return false;
        }

        if (runningRequests <= 1 && scheduler.ActiveRows == 0 && scheduler.Queued == 0 && !scheduler.ExpectsMore)
        {
            return true;
        }

        var key = PrefixCacheSession.KeyFor(plan, cache.Layout)!;
        var match = cache.LongestMatch(plan.PromptTokens, key, plan.MaxLength);
        if (match > 0 && (long)match >= (long)PrefixToNewTokensForGenerator * plan.MaxNewTokens)
        {
            return true;
        }

        cache.CountMiss();
        return false;
    }
}
