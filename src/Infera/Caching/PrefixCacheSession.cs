using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera;

/// <summary>
/// One request's use of the <see cref="PrefixCache"/>: it starts the request's generator from the kept sequence sharing
/// the longest prefix with the prompt (rewound to that prefix, the rest of the prompt appended), or from a new generator
/// with room to grow, and gives the generator back to the cache when the request ends.
/// </summary>
internal sealed class PrefixCacheSession
{
    /// <summary>The key of every cacheable generator: greedy search settings (GenAI does not sample), no constraint, no adapter.</summary>
    internal const string GreedyKey = "greedy";

    private readonly PrefixCache _cache;
    private readonly GenerationPlan _plan;
    private CachedSequence? _sequence;
    private int _lastAppend;

    private PrefixCacheSession(PrefixCache cache, GenerationPlan plan)
    {
        _cache = cache;
        _plan = plan;
    }

    /// <summary>Gets how many prompt tokens came from the cache.</summary>
    public int CachedTokens { get; private set; }

    /// <summary>
    /// The key under which a request's generator may be kept and shared, or <see langword="null"/> when its state
    /// must not be shared: a constraint (its grammar state follows the tokens) or GenAI sampling (its random state).
    /// </summary>
    public static string? KeyFor(GenerationPlan plan, PrefixCacheLayout layout)
    {
        var options = plan.Options;
        if (options.Constraint is not null)
        {
            return null;
        }

        // Infera's sampler and greedy requests run GenAI without sampling; a request that sets nothing runs the model's
        // own search, which is the same when the model's defaults are greedy.
        var nothingSet = options.Temperature is null && options.TopP is null && options.TopK is null && options.Seed is null && options.RepetitionPenalty is null;
        var greedy = plan.UseInferaSampler || options.IsGreedy || (nothingSet && layout.DefaultSearchIsGreedy);
        return greedy ? GreedyKey : null;
    }

    /// <summary>Starts a session when the request's state may be kept, else returns <see langword="null"/>.</summary>
    public static PrefixCacheSession? TryStart(PrefixCache? cache, GenerationPlan plan) =>
        cache is not null && KeyFor(plan, cache.Layout) is not null ? new PrefixCacheSession(cache, plan) : null;

    /// <summary>
    /// Returns a generator holding the prompt's keys and values with logits for its last token: a kept one continued
    /// from the longest shared prefix, or a new one made by <paramref name="create"/> (given the <c>max_length</c> to set).
    /// </summary>
    public Generator Start(Func<int, (GeneratorParams Params, Generator Generator)> create)
    {
        var prompt = _plan.PromptTokens;
        var key = KeyFor(_plan, _cache.Layout)!;
        if (_cache.TryTake(prompt, key, _plan.MaxLength) is { } hit)
        {
            var sequence = hit.Sequence;
            try
            {
                sequence.Generator.RewindTo((ulong)hit.CachedTokens);
                Append(sequence.Generator, prompt.AsSpan(hit.CachedTokens), afterRewind: true);
                _sequence = sequence;
                CachedTokens = hit.CachedTokens;
                return sequence.Generator;
            }
            catch (OnnxRuntimeGenAIException)
            {
                // The kept state could not be continued: compute the prompt on a new generator instead.
                sequence.Dispose();
            }
        }

        var capacity = _cache.Layout.CapacityFor(_plan.MaxLength);
        var (generatorParams, generator) = create(capacity);
        _sequence = new CachedSequence(generatorParams, generator, key, capacity);
        CachedTokens = 0;
        Append(generator, prompt, afterRewind: false);
        return generator;
    }

    /// <summary>
    /// Gives the generator to the cache (<paramref name="keep"/>) or disposes it. <paramref name="pendingToken"/>: the
    /// sequence ends with a chosen token whose keys and values are not computed yet; <paramref name="generated"/>: the
    /// tokens generated.
    /// </summary>
    public void End(bool keep, bool pendingToken, int generated)
    {
        if (_sequence is not { } sequence)
        {
            return;
        }

        _sequence = null;
        if (!keep)
        {
            sequence.Dispose();
            return;
        }

        try
        {
            var all = sequence.Generator.GetSequence(0);
            // A chosen token not yet run through the model holds no keys and values. GenAI 0.18 also refuses to rewind a
            // generator whose past is a separate (not shared) buffer to its last computed position ("Requested length of
            // rewind is greater than the current length"): keep one position less there.
            var uncomputed = (pendingToken ? 1 : 0) + (_cache.Layout.SharedBuffer ? 0 : 1);
            var valid = Math.Max(0, all.Length - uncomputed);
            sequence.Tokens = all[..valid].ToArray();

            // With separate prompt and step accuracy levels only the keys and values of several-token steps are what a
            // request without the cache computes: the prompt, not the generated tokens.
            sequence.ReusableLength = _cache.Layout.SplitAccuracy ? Math.Min(valid, PromptComputedLength()) : valid;
            sequence.Bytes = _cache.Layout.BytesOf(sequence.Capacity, valid, generated >= 2 ? 1 : _lastAppend);
        }
        catch (OnnxRuntimeGenAIException)
        {
            sequence.Dispose();
            return;
        }

        _cache.Return(sequence);
    }

    private int PromptComputedLength()
    {
        var appended = _plan.PromptTokens.Length - CachedTokens;
        var severalAtOnce = appended >= 2 && !_cache.Layout.AppendOneAtATime;
        return severalAtOnce ? _plan.PromptTokens.Length : CachedTokens;
    }

    private void Append(Generator generator, ReadOnlySpan<int> tokens, bool afterRewind)
    {
        _lastAppend = tokens.Length;
        if (!afterRewind || !_cache.Layout.AppendOneAtATime)
        {
            generator.AppendTokens(tokens);
            return;
        }

        for (var i = 0; i < tokens.Length; i++)
        {
            generator.AppendTokens(tokens.Slice(i, 1));
        }
    }
}
