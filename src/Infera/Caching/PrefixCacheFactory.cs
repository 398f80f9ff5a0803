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
    /// Whether a request a batch could take should run on a generator instead: when a kept sequence shares its prefix
    /// (continuing it is cheaper than any batch), or when nothing else is running and no other request is expected
    /// within the batch window (a generator run alone is as fast as a one-row batch, and its state is kept for the next
    /// request; when the rows of a batch just finished, their clients' next requests are about to arrive and share a
    /// batch). Both give the same tokens.
    /// </summary>
    public static bool PreferGenerator(PrefixCache? cache, PrefixCacheSession? session, GenerationPlan plan, BatchScheduler scheduler, int runningRequests)
    {
        if (cache is null || session is null)
        {
            return false;
        }

        var key = PrefixCacheSession.KeyFor(plan, cache.Layout)!;
        if (cache.HasMatch(plan.PromptTokens, key, plan.MaxLength) || (runningRequests <= 1 && scheduler.ActiveRows == 0 && scheduler.Queued == 0 && !scheduler.ExpectsMore))
        {
            return true;
        }

        cache.CountMiss();
        return false;
    }
}
