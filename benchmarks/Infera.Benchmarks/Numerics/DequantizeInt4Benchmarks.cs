using BenchmarkDotNet.Attributes;
using Infera.Numerics;

namespace Infera.Benchmarks.Numerics;

/// <summary>
/// Int4 block-32 dequantization (symmetric, default zero point 8) of an [8, Length] weight back to fp32.
/// Throughput in GB/s of fp32 output = 8 × Length × 4 bytes / time.
/// </summary>
[MemoryDiagnoser]
public class DequantizeInt4Benchmarks
{
    private const int Rows = 8;
    private const int BlockSize = 32;
    private float[] _destination = [];
    private byte[] _packed = [];
    private float[] _scales = [];
    private MatMulNBitsLayout _layout;

    [Params(32000, 32003, 128256, 151936)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _layout = new MatMulNBitsLayout(Rows, Length, 4, BlockSize);
        var weights = BenchmarkData.Normal(_layout.WeightCount, 2, 0.05f);
        _packed = new byte[_layout.PackedLength];
        _scales = new float[_layout.ScaleCount];
        _destination = new float[_layout.WeightCount];
        Int4Quantizer.QuantizeSymmetric(weights, _layout, _packed, _scales);
    }

    /// <summary>A straightforward scalar loop: one nibble, one subtraction and one multiplication per element.</summary>
    [Benchmark(Baseline = true)]
    public float Scalar()
    {
        var k = _layout.K;
        var rowBytes = _layout.PackedRowLength;
        var blocks = _layout.BlocksPerRow;
        for (var n = 0; n < Rows; n++)
        {
            for (var i = 0; i < k; i++)
            {
                var packed = _packed[(n * rowBytes) + (i >> 1)];
                var code = (i & 1) == 0 ? packed & 0x0F : packed >> 4;
                _destination[(n * k) + i] = (code - 8f) * _scales[(n * blocks) + (i / BlockSize)];
            }
        }

        return _destination[0];
    }

    [Benchmark]
    public float InferaInt4Dequantizer()
    {
        Int4Quantizer.Dequantize(_packed, _scales, [], _layout, _destination);
        return _destination[0];
    }
}
