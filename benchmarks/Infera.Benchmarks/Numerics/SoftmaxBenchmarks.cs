using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using Infera.Numerics;

namespace Infera.Benchmarks.Numerics;

/// <summary>Max-subtracted softmax over a vocabulary of logits.</summary>
[MemoryDiagnoser]
public class SoftmaxBenchmarks
{
    private float[] _logits = [];
    private float[] _destination = [];

    [Params(32000, 32003, 128256, 151936)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _logits = BenchmarkData.Normal(Length, 1, 3f);
        _destination = new float[Length];
    }

    [Benchmark(Baseline = true)]
    public float Scalar()
    {
        var max = float.NegativeInfinity;
        foreach (var l in _logits)
        {
            max = Math.Max(max, l);
        }

        var sum = 0f;
        for (var i = 0; i < _logits.Length; i++)
        {
            var e = MathF.Exp(_logits[i] - max);
            _destination[i] = e;
            sum += e;
        }

        var inverse = 1f / sum;
        for (var i = 0; i < _destination.Length; i++)
        {
            _destination[i] *= inverse;
        }

        return _destination[0];
    }

    [Benchmark]
    public float InferaSoftmax()
    {
        Softmax.Compute(_logits, _destination);
        return _destination[0];
    }

    /// <summary>For reference only: not max-subtracted, so it overflows for large logits.</summary>
    [Benchmark]
    public float TensorPrimitivesSoftMax()
    {
        TensorPrimitives.SoftMax(_logits, _destination);
        return _destination[0];
    }
}
