using CsCheck;

namespace Infera.Numerics.Tests.Quantization;

public sealed class Int4QuantizerTests
{
    [Fact]
    public void Quantize_EveryBlockSizeAndShape_MatchesReferenceBitForBit() => Assert.Empty(Int4Checks.All());

    [Fact]
    public void QuantizeSymmetric_RampBlock_PacksLowNibbleFirst()
    {
        // -4, -3.5, ..., 3.5: the largest magnitude is -4, so scale = -4 / -8 = 0.5 and the codes are 0..15.
        var weights = Enumerable.Range(0, 16).Select(i => (i - 8) * 0.5f).ToArray();
        var layout = new MatMulNBitsLayout(1, 16, 4, 16);
        var packed = new byte[layout.PackedLength];
        var scales = new float[layout.ScaleCount];

        Int4Quantizer.QuantizeSymmetric(weights, layout, packed, scales);

        Assert.Equal(new byte[] { 0x10, 0x32, 0x54, 0x76, 0x98, 0xBA, 0xDC, 0xFE }, packed);
        Assert.Equal([0.5f], scales);
    }

    [Fact]
    public void Quantize_WithZeroPoints_PacksZeroPointsPerRowPaddedWithEight()
    {
        // Two rows, three blocks of 16 each: zero points take two bytes per row, the spare high nibble being 8.
        var layout = new MatMulNBitsLayout(2, 40, 4, 16);
        var weights = new float[layout.WeightCount];
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = (i % 40) - 5f;
        }

        var packed = new byte[layout.PackedLength];
        var scales = new float[layout.ScaleCount];
        var zeroPoints = new byte[layout.ZeroPointLength];

        Int4Quantizer.Quantize(weights, layout, packed, scales, zeroPoints);

        Assert.Equal(4, zeroPoints.Length);
        Assert.Equal(3 * 8 * 2, packed.Length);
        // Block 0 holds -5..10: scale 1, zero point 5. Blocks 1 and 2 are all positive: zero point 0.
        Assert.Equal(new byte[] { 0x05, 0x80, 0x05, 0x80 }, zeroPoints);
        Assert.Equal(1f, scales[0]);
        // Elements 40..47 of a row are padding and hold the zero point code (0 for block 2).
        Assert.Equal(0, packed[(2 * 8) + 7] & 0x0F);
    }

    [Fact]
    public void Layout_MatMulNBitsShapes_FollowTheContribOperator()
    {
        var layout = new MatMulNBitsLayout(n: 3, k: 100, bits: 4, blockSize: 32);

        Assert.Equal(4, layout.BlocksPerRow);
        Assert.Equal(16, layout.BlobSize);
        Assert.Equal(3 * 4 * 16, layout.PackedLength);
        Assert.Equal(12, layout.ScaleCount);
        Assert.Equal(3 * 2, layout.ZeroPointLength);
        Assert.Equal(8, layout.DefaultZeroPoint);
    }

    [Fact]
    public void Dequantize_WithoutZeroPoints_UsesDefaultEight()
    {
        var layout = new MatMulNBitsLayout(1, 16, 4, 16);
        var packed = Enumerable.Repeat((byte)0x98, 8).ToArray();
        var destination = new float[16];

        Int4Quantizer.Dequantize(packed, [2f], [], layout, destination);

        Assert.All(destination.Where((_, i) => i % 2 == 0), v => Assert.Equal(0f, v));
        Assert.All(destination.Where((_, i) => i % 2 == 1), v => Assert.Equal(2f, v));
    }

    [Fact]
    public void Quantize_WrongLengths_Throws()
    {
        var layout = new MatMulNBitsLayout(2, 32, 4, 32);
        Assert.Throws<ArgumentException>(() => Int4Quantizer.QuantizeSymmetric(new float[63], layout, new byte[32], new float[2]));
        Assert.Throws<ArgumentException>(() => Int4Quantizer.QuantizeSymmetric(new float[64], layout, new byte[31], new float[2]));
        Assert.Throws<ArgumentException>(() => Int4Quantizer.QuantizeSymmetric(new float[64], new MatMulNBitsLayout(2, 32, 8, 32), new byte[64], new float[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MatMulNBitsLayout(2, 32, 4, 48));
    }

    [Fact]
    public void RoundTrip_RandomMatrices_WithinFormatBound()
    {
        var shapes = Gen.Select(Gen.Int[1, 4], Gen.Int[1, 300], Gen.Int[4, 7].Select(e => 1 << e), Gen.Bool, Gen.Single[-10f, 10f]);
        shapes.Sample((n, k, blockSize, symmetric, magnitude) =>
        {
            var layout = new MatMulNBitsLayout(n, k, 4, blockSize);
            var weights = TestData.Normal(layout.WeightCount, (ulong)(n * 1000 + k), magnitude);
            var (_, scales, _, restored) = Int4Checks.RoundTrip(weights, layout, symmetric);
            for (var i = 0; i < weights.Length; i++)
            {
                var scale = Math.Abs(scales[((i / k) * layout.BlocksPerRow) + ((i % k) / blockSize)]);
                var bound = (symmetric ? scale : scale / 2) * 1.0001f + 1e-7f;
                if (Math.Abs(weights[i] - restored[i]) > bound)
                {
                    return false;
                }
            }

            return true;
        }, iter: 60);
    }
}
