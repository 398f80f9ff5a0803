namespace Infera;

/// <summary>A snapshot of a runner's prefix cache (see <see cref="OnnxModelRunnerOptions.PrefixCacheBytes"/>).</summary>
/// <param name="BudgetBytes">The most bytes idle sequences may hold.</param>
/// <param name="Bytes">The bytes idle sequences hold now (estimated from the model's key/value layout).</param>
/// <param name="Sequences">The idle sequences kept.</param>
/// <param name="Hits">Requests that continued a kept sequence.</param>
/// <param name="Misses">Cacheable requests that found no sequence to continue.</param>
/// <param name="HitTokens">Prompt tokens taken from kept sequences instead of computed.</param>
/// <param name="Evictions">Sequences dropped (least recently used first) to stay within the budget.</param>
public readonly record struct PrefixCacheStatistics(long BudgetBytes, long Bytes, int Sequences, long Hits, long Misses, long HitTokens, long Evictions);
