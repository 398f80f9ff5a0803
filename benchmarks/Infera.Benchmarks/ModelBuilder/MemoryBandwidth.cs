using System.Diagnostics;
using System.Numerics.Tensors;

namespace Infera.Benchmarks.ModelBuilder;

/// <summary>Memory read bandwidth: a vectorized sum over a large float array, split across threads.</summary>
internal sealed class MemoryBandwidth
{
    private readonly float[] _data;

    public MemoryBandwidth(long bytes)
    {
        _data = new float[bytes / sizeof(float)];
        var random = new Random(1);
        for (int i = 0; i < _data.Length; i += 1024)
        {
            _data[i] = (float)random.NextDouble(); // touch every page
        }
    }

    public long Bytes => _data.LongLength * sizeof(float);

    /// <summary>Reads the whole array once with <paramref name="threads"/> threads; returns GB/s (1e9 bytes).</summary>
    public double Measure(int threads)
    {
        var sums = new float[threads];
        int chunk = _data.Length / threads;
        var workers = new Thread[threads];
        using var start = new Barrier(threads + 1);
        for (int t = 0; t < threads; t++)
        {
            int index = t;
            workers[t] = new Thread(() =>
            {
                start.SignalAndWait();
                int from = index * chunk;
                int length = index == threads - 1 ? _data.Length - from : chunk;
                sums[index] = TensorPrimitives.Sum(new ReadOnlySpan<float>(_data, from, length));
            });
            workers[t].Start();
        }

        start.SignalAndWait();
        var watch = Stopwatch.StartNew();
        foreach (var worker in workers)
        {
            worker.Join();
        }

        double seconds = watch.Elapsed.TotalSeconds;
        GC.KeepAlive(sums);
        return Bytes / seconds / 1e9;
    }
}
