using Microsoft.ML.OnnxRuntimeGenAI;

namespace Infera;

/// <summary>
/// A kept generator and what its key/value state holds: the tokens whose keys and values are computed, and how many of
/// them a new request may reuse exactly.
/// </summary>
/// <remarks>
/// A sequence belongs either to the <see cref="PrefixCache"/> (idle, evictable) or to the one request that took it
/// (in use, never evicted); never to both.
/// </remarks>
internal sealed class CachedSequence : IDisposable
{
    public CachedSequence(GeneratorParams generatorParams, Generator generator, string key, int capacity)
    {
        GeneratorParams = generatorParams;
        Generator = generator;
        Key = key;
        Capacity = capacity;
    }

    public GeneratorParams GeneratorParams { get; }

    public Generator Generator { get; }

    /// <summary>Gets what must be equal for two requests to share this state (the generator's search configuration).</summary>
    public string Key { get; }

    /// <summary>Gets the generator's <c>max_length</c>: a request that needs more cannot continue it.</summary>
    public int Capacity { get; }

    /// <summary>Gets or sets the tokens whose keys and values the generator holds, in order.</summary>
    public int[] Tokens { get; set; } = [];

    /// <summary>Gets or sets how many leading <see cref="Tokens"/> a new request may reuse (all of them, or only those computed by several-token steps).</summary>
    public int ReusableLength { get; set; }

    /// <summary>Gets or sets the bytes the kept generator holds (estimated from the model's layout).</summary>
    public long Bytes { get; set; }

    /// <summary>Gets or sets the cache's use counter when the sequence was last returned (for least-recently-used eviction).</summary>
    public long LastUsed { get; set; }

    public void Dispose()
    {
        Generator.Dispose();
        GeneratorParams.Dispose();
    }
}
