using BenchmarkDotNet.Attributes;
using Infera.Numerics;

namespace Infera.Benchmarks.Numerics;

/// <summary>Top-k (k = 40) sampling at temperature 0.8: select, softmax over the kept logits, draw.</summary>
[MemoryDiagnoser]
public class TopKSamplingBenchmarks
{
    private const int K = 40;
    private const float Temperature = 0.8f;
    private float[] _logits = [];
    private ulong[] _keys = [];
    private int[] _indices = [];
    private readonly int[] _selected = new int[K];
    private readonly float[] _weights = new float[K];
    private LogitsSampler _sampler = null!;
    private SeededRandom _random = null!;

    [Params(32000, 32003, 128256, 151936)]
    public int VocabularySize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _logits = BenchmarkData.PeakedLogits(VocabularySize, 1);
        _keys = new ulong[VocabularySize];
        _indices = new int[VocabularySize];
        _sampler = new LogitsSampler(new SamplingParameters { Temperature = Temperature, TopK = K, Seed = 1 }, VocabularySize);
        _random = new SeededRandom(1);
    }

    /// <summary>Sort the whole vocabulary, keep the first k, softmax them, draw.</summary>
    [Benchmark(Baseline = true)]
    public int SortVocabulary()
    {
        var order = BenchmarkData.SortedIndices(_logits, _keys, _indices);
        return Draw(order.AsSpan(0, K));
    }

    /// <summary>A plain scalar k-element heap over the vocabulary, then the same softmax and draw.</summary>
    [Benchmark]
    public int ScalarHeap()
    {
        var heap = _selected;
        var count = 0;
        for (var i = 0; i < _logits.Length; i++)
        {
            if (count < K)
            {
                heap[count++] = i;
                if (count == K)
                {
                    heap.AsSpan().Sort((a, b) => _logits[a].CompareTo(_logits[b]));
                }
            }
            else if (_logits[i] > _logits[heap[0]])
            {
                heap[0] = i;
                var node = 0;
                while (true)
                {
                    var child = (2 * node) + 1;
                    if (child >= K)
                    {
                        break;
                    }

                    if (child + 1 < K && _logits[heap[child + 1]] < _logits[heap[child]])
                    {
                        child++;
                    }

                    if (_logits[heap[child]] >= _logits[heap[node]])
                    {
                        break;
                    }

                    (heap[node], heap[child]) = (heap[child], heap[node]);
                    node = child;
                }
            }
        }

        return Draw(heap);
    }

    /// <summary>The primitive alone: <see cref="TopK.Select"/>.</summary>
    [Benchmark]
    public int TopKSelect() => TopK.Select(_logits, K, _selected);

    /// <summary>The whole <see cref="LogitsSampler.Sample"/> call with TopK = 40.</summary>
    [Benchmark]
    public int InferaSampler() => _sampler.Sample(_logits).TokenId;

    private int Draw(ReadOnlySpan<int> candidates)
    {
        var max = float.NegativeInfinity;
        foreach (var i in candidates)
        {
            max = Math.Max(max, _logits[i]);
        }

        var sum = 0.0;
        for (var j = 0; j < candidates.Length; j++)
        {
            _weights[j] = MathF.Exp((_logits[candidates[j]] - max) / Temperature);
            sum += _weights[j];
        }

        var target = _random.NextDouble() * sum;
        for (var j = 0; j < candidates.Length; j++)
        {
            target -= _weights[j];
            if (target < 0)
            {
                return candidates[j];
            }
        }

        return candidates[^1];
    }
}
