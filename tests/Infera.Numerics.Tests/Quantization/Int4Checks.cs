namespace Infera.Numerics.Tests.Quantization;

/// <summary>Vector quantization paths against the scalar references, bit for bit; shared with the ISA child runs.</summary>
internal static class Int4Checks
{
    public static readonly int[] BlockSizes = [16, 32, 64, 128];
    public static readonly int[] Columns = [1, 7, 16, 17, 31, 32, 33, 64, 100, 128, 255, 256, 257, 1000, 4100];

    public static IEnumerable<string> All()
    {
        foreach (var bits in new[] { 4, 8 })
        {
            foreach (var blockSize in BlockSizes)
            {
                foreach (var k in Columns)
                {
                    foreach (var symmetric in new[] { true, false })
                    {
                        var failure = Check(3, k, bits, blockSize, symmetric);
                        if (failure is not null)
                        {
                            yield return failure;
                        }
                    }
                }
            }
        }
    }

    public static string? Check(int n, int k, int bits, int blockSize, bool symmetric)
    {
        var label = $"bits={bits} block={blockSize} N={n} K={k} symmetric={symmetric}";
        var weights = TestData.Normal(n * k, (ulong)(k * 131) + (ulong)blockSize, 0.05f, symmetric ? 0f : 0.01f);
        var layout = new MatMulNBitsLayout(n, k, bits, blockSize);
        var packed = new byte[layout.PackedLength];
        var scales = new float[layout.ScaleCount];
        var zeroPoints = symmetric ? [] : new byte[layout.ZeroPointLength];
        BlockQuantizer.Quantize(weights, layout, packed, scales, zeroPoints, symmetric, vectorized: true);

        var expected = ReferenceQuantizer.Quantize(weights, n, k, bits, blockSize, symmetric);
        if (!packed.AsSpan().SequenceEqual(expected.Packed))
        {
            return $"{label}: packed bytes differ from the reference";
        }

        if (!scales.Select(BitConverter.SingleToInt32Bits).SequenceEqual(expected.Scales.Select(BitConverter.SingleToInt32Bits)))
        {
            return $"{label}: scales differ from the reference";
        }

        if (!symmetric && !zeroPoints.AsSpan().SequenceEqual(expected.ZeroPoints))
        {
            return $"{label}: zero points differ from the reference";
        }

        var vectorized = new float[n * k];
        var scalar = new float[n * k];
        BlockQuantizer.Dequantize(packed, scales, zeroPoints, layout, vectorized, vectorized: true);
        BlockQuantizer.Dequantize(packed, scales, zeroPoints, layout, scalar, vectorized: false);
        if (!vectorized.Select(BitConverter.SingleToInt32Bits).SequenceEqual(scalar.Select(BitConverter.SingleToInt32Bits)))
        {
            return $"{label}: vector dequantization differs from scalar";
        }

        // Within the format's bound: half a step, or a whole step on the clamped side of a symmetric block.
        for (var i = 0; i < weights.Length; i++)
        {
            var scale = Math.Abs(scales[((i / k) * layout.BlocksPerRow) + ((i % k) / blockSize)]);
            var bound = (symmetric ? scale : scale / 2) + 1e-6f;
            if (Math.Abs(weights[i] - vectorized[i]) > bound)
            {
                return $"{label}: element {i} error {Math.Abs(weights[i] - vectorized[i])} above {bound}";
            }
        }

        return null;
    }

    public static string Digest()
    {
        var bytes = new List<byte>();
        foreach (var blockSize in BlockSizes)
        {
            foreach (var symmetric in new[] { true, false })
            {
                var layout = new MatMulNBitsLayout(4, 1000, 4, blockSize);
                var (packed, scales, zeroPoints, restored) = RoundTrip(TestData.Normal(layout.WeightCount, (ulong)blockSize, 0.1f), layout, symmetric);
                bytes.AddRange(packed);
                bytes.AddRange(zeroPoints);
                bytes.AddRange(scales.SelectMany(BitConverter.GetBytes));
                bytes.AddRange(restored.SelectMany(BitConverter.GetBytes));
            }
        }

        return IsaDigests.Hash(bytes.ToArray());
    }

    /// <summary>Quantizes (symmetrically, or with zero points) and dequantizes back.</summary>
    public static (byte[] Packed, float[] Scales, byte[] ZeroPoints, float[] Restored) RoundTrip(float[] weights, MatMulNBitsLayout layout, bool symmetric)
    {
        var packed = new byte[layout.PackedLength];
        var scales = new float[layout.ScaleCount];
        var zeroPoints = symmetric ? [] : new byte[layout.ZeroPointLength];
        if (symmetric)
        {
            Int4Quantizer.QuantizeSymmetric(weights, layout, packed, scales);
        }
        else
        {
            Int4Quantizer.Quantize(weights, layout, packed, scales, zeroPoints);
        }

        var restored = new float[layout.WeightCount];
        Int4Quantizer.Dequantize(packed, scales, zeroPoints, layout, restored);
        return (packed, scales, zeroPoints, restored);
    }
}
