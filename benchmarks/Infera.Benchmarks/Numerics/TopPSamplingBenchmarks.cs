using BenchmarkDotNet.Attributes;
using Infera.Numerics;

namespace Infera.Benchmarks.Numerics;

/// <summary>
/// Top-p (p = 0.9) sampling over the whole vocabulary at temperature 1: softmax, nucleus, draw. "Peaked" logits
/// look like a language model's (the nucleus holds a few dozen tokens); "Flat" ones are N(0, 1), where the nucleus
/// holds most of the vocabulary, the worst case.
/// </summary>
[MemoryDiagnoser]
public class TopPSamplingBenchmarks
{
    private const float P = 0.9f;
    private float[] _logits = [];
    private float[] _probabilities = [];
    private ulong[] _keys = [];
    private int[] _indices = [];
    private LogitsSampler _sampler = null!;
    private SeededRandom _random = null!;

    [Params(32000, 32003, 128256, 151936)]
    public int VocabularySize { get; set; }

    [Params("Peaked", "Flat")]
    public string Distribution { get; set; } = "Peaked";

    [GlobalSetup]
    public void Setup()
    {
        _logits = BenchmarkData.Logits(Distribution, VocabularySize, 1);
        _probabilities = new float[VocabularySize];
        _keys = new ulong[VocabularySize];
        _indices = new int[VocabularySize];
        _sampler = new LogitsSampler(new SamplingParameters { TopP = P, Seed = 1 }, VocabularySize);
        _random = new SeededRandom(1);
    }

    /// <summary>Softmax, sort the whole vocabulary, walk to mass p, draw.</summary>
    [Benchmark(Baseline = true)]
    public int SortVocabulary()
    {
        var max = float.NegativeInfinity;
        foreach (var l in _logits)
        {
            max = Math.Max(max, l);
        }

        var sum = 0.0;
        for (var i = 0; i < _logits.Length; i++)
        {
            _probabilities[i] = MathF.Exp(_logits[i] - max);
            sum += _probabilities[i];
        }

        var order = BenchmarkData.SortedIndices(_logits, _keys, _indices);
        var kept = 0;
        var mass = 0.0;
        while (kept < order.Length && mass < P * sum)
        {
            mass += _probabilities[order[kept++]];
        }

        var target = _random.NextDouble() * mass;
        for (var j = 0; j < kept; j++)
        {
            target -= _probabilities[order[j]];
            if (target < 0)
            {
                return order[j];
            }
        }

        return order[kept - 1];
    }

    /// <summary>The whole <see cref="LogitsSampler.Sample"/> call with TopP = 0.9.</summary>
    [Benchmark]
    public int InferaSampler() => _sampler.Sample(_logits).TokenId;
}
