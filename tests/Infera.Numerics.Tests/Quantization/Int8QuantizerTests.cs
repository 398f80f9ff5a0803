namespace Infera.Numerics.Tests.Quantization;

public sealed class Int8QuantizerTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void QuantizeBlockwise_RoundTrip_WithinHalfStepOrOneStep(bool symmetric)
    {
        var layout = new MatMulNBitsLayout(5, 300, 8, 64);
        var weights = TestData.Normal(layout.WeightCount, 3, 0.2f);
        var packed = new byte[layout.PackedLength];
        var scales = new float[layout.ScaleCount];
        var zeroPoints = symmetric ? [] : new byte[layout.ZeroPointLength];
        if (symmetric)
        {
            Int8Quantizer.QuantizeSymmetric(weights, layout, packed, scales);
        }
        else
        {
            Int8Quantizer.Quantize(weights, layout, packed, scales, zeroPoints);
        }

        var restored = new float[weights.Length];
        Int8Quantizer.Dequantize(packed, scales, zeroPoints, layout, restored);

        var error = QuantizationError.Measure(weights, restored);
        var largestStep = scales.Max(MathF.Abs);
        Assert.InRange(error.MaxAbsolute, 0f, symmetric ? largestStep : (largestStep / 2) + 1e-6f);
        Assert.True(error.RootMeanSquare < largestStep / 2);
        Assert.True(error.MaxAbsolute > 0f);
    }

    [Fact]
    public void QuantizeRows_RoundTrip_WithinHalfStep()
    {
        const int rows = 7, columns = 129;
        var weights = TestData.Normal(rows * columns, 5, 3f);
        var quantized = new sbyte[weights.Length];
        var scales = new float[rows];

        Int8Quantizer.QuantizeRows(weights, rows, columns, quantized, scales);
        var restored = new float[weights.Length];
        Int8Quantizer.DequantizeRows(quantized, scales, rows, columns, restored);

        for (var r = 0; r < rows; r++)
        {
            var row = weights.AsSpan(r * columns, columns);
            Assert.Equal(row.ToArray().Max(MathF.Abs) / 127f, scales[r]);
            var error = QuantizationError.Measure(row, restored.AsSpan(r * columns, columns));
            Assert.InRange(error.MaxAbsolute, 0f, (scales[r] / 2) * 1.0001f);
        }

        Assert.Contains(quantized, q => q is 127 or -127);
    }

    [Fact]
    public void QuantizationError_KnownValues_MaxAndRms()
    {
        var error = QuantizationError.Measure([1f, 2f, 3f, 4f], [1f, 2.5f, 3f, 3f]);

        Assert.Equal(1f, error.MaxAbsolute);
        Assert.Equal(MathF.Sqrt((0.25f + 1f) / 4f), error.RootMeanSquare, 6);
    }
}
