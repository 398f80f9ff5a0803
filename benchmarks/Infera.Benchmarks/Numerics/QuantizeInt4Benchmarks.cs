using BenchmarkDotNet.Attributes;
using Infera.Numerics;

namespace Infera.Benchmarks.Numerics;

/// <summary>
/// Symmetric int4 block-32 quantization of an [8, Length] fp32 weight into the MatMulNBits layout.
/// Throughput in GB/s of fp32 input = 8 × Length × 4 bytes / time.
/// </summary>
[MemoryDiagnoser]
public class QuantizeInt4Benchmarks
{
    private const int Rows = 8;
    private const int BlockSize = 32;
    private float[] _weights = [];
    private byte[] _packed = [];
    private float[] _scales = [];
    private MatMulNBitsLayout _layout;

    [Params(32000, 32003, 128256, 151936)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _layout = new MatMulNBitsLayout(Rows, Length, 4, BlockSize);
        _weights = BenchmarkData.Normal(_layout.WeightCount, 2, 0.05f);
        _packed = new byte[_layout.PackedLength];
        _scales = new float[_layout.ScaleCount];
    }

    /// <summary>A straightforward scalar transcription of the MLAS arithmetic, one element at a time.</summary>
    [Benchmark(Baseline = true)]
    public byte Scalar()
    {
        var k = _layout.K;
        var blocks = _layout.BlocksPerRow;
        for (var n = 0; n < Rows; n++)
        {
            for (var b = 0; b < blocks; b++)
            {
                float lo = float.MaxValue, hi = -float.MaxValue;
                var end = Math.Min(k, (b + 1) * BlockSize);
                for (var i = b * BlockSize; i < end; i++)
                {
                    var v = _weights[(n * k) + i];
                    lo = Math.Min(lo, v);
                    hi = Math.Max(hi, v);
                }

                var m = Math.Abs(hi) > Math.Abs(lo) ? hi : lo;
                var scale = m / -8f;
                _scales[(n * blocks) + b] = scale;
                var reciprocal = scale != 0 ? 1f / scale : 0f;
                var rowBase = (n * blocks * 16) + (b * 16);
                for (var j = 0; j < BlockSize; j += 2)
                {
                    var i = (b * BlockSize) + j;
                    var c0 = i < k ? (int)Math.Clamp(MathF.Round((_weights[(n * k) + i] * reciprocal) + 8f, MidpointRounding.AwayFromZero), 0, 15) : 8;
                    var c1 = i + 1 < k ? (int)Math.Clamp(MathF.Round((_weights[(n * k) + i + 1] * reciprocal) + 8f, MidpointRounding.AwayFromZero), 0, 15) : 8;
                    _packed[rowBase + (j / 2)] = (byte)(c0 | (c1 << 4));
                }
            }
        }

        return _packed[0];
    }

    [Benchmark]
    public byte InferaInt4Quantizer()
    {
        Int4Quantizer.QuantizeSymmetric(_weights, _layout, _packed, _scales);
        return _packed[0];
    }
}
