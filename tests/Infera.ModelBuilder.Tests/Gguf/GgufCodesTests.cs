using Xunit.Abstractions;
using System.Buffers.Binary;

namespace Infera.ModelBuilder.Tests;

/// <summary>The MatMulNBits form of each GGUF block type against ggml's dequantization (GgufBlocks, written from ggml-quants.c).</summary>
public sealed class GgufCodesTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("Q4_0", true, GgufFile.SliceBytes)]
    [InlineData("Q8_0", true, GgufFile.SliceBytes)]
    [InlineData("Q5_0", true, GgufFile.SliceBytes)]
    [InlineData("Q6_K", true, GgufFile.SliceBytes)]
    [InlineData("Q4_1", false, GgufFile.SliceBytes)]
    [InlineData("Q5_1", false, GgufFile.SliceBytes)]
    [InlineData("Q4_K", false, GgufFile.SliceBytes)]
    [InlineData("Q5_K", false, GgufFile.SliceBytes)]
    [InlineData("Q4_0", true, 100)]
    [InlineData("Q8_0", true, 1000)]
    [InlineData("Q6_K", true, 500)]
    public void From_RandomBlocks_MatchGgmlDequantization(string typeName, bool exact, int sliceBytes)
    {
        var type = Enum.Parse<GgufType>(typeName);
        const int Rows = 8, K = 512;
        var (elements, bytes) = GgufBlocks.Block(type);
        var data = new byte[Rows * K / elements * bytes];
        var random = new Random(5);
        random.NextBytes(data);

        // Sane float16 scales (random bits could be NaN or huge): d in [0.001, 0.03), mins likewise.
        for (int b = 0; b < data.Length / bytes; b++)
        {
            var block = data.AsSpan(b * bytes, bytes);
            int dOffset = type == GgufType.Q6_K ? 208 : 0;
            BinaryPrimitives.WriteUInt16LittleEndian(block[dOffset..], BitConverter.HalfToUInt16Bits((Half)(0.001 + (0.03 * random.NextDouble()))));
            if (type is GgufType.Q4_1 or GgufType.Q5_1 or GgufType.Q4_K or GgufType.Q5_K)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(block[2..], BitConverter.HalfToUInt16Bits((Half)(0.001 + (0.03 * random.NextDouble()))));
            }
        }

        using var temp = new TempDirectory();
        string path = temp.Combine("t.gguf");
        WriteSingleTensor(path, type, Rows, K, data);
        using var file = GgufFile.Open(path);
        var tensor = file.Tensors["t"];
        var reference = file.ReadFloat(tensor);

        // Read a few blocks at a time as well as whole (slices of 100-1,000 bytes: 2-29 blocks).
        var codes = GgufCodes.From(file, tensor, sliceBytes)!;
        var values = Dequantize(codes);

        Assert.Equal(exact, codes.Exact);
        double worst = 0, range = reference.Max(Math.Abs);
        for (int i = 0; i < reference.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(reference[i] - values[i]));
        }

        output.WriteLine($"{type}: max |error| {worst:G4} = {worst / range:G4} of max |value| {range:G4}");
        if (exact)
        {
            Assert.Equal(reference, values);
        }
        else
        {
            // 8-bit symmetric blocks of 32: at most half a step of max|block| / 127.
            Assert.True(worst <= range / 254 * 1.001, $"{type}: max error {worst:G4}, max |value| {range:G4}");
        }
    }

    [Fact]
    public void CommonForm_FourAndEightBitBlocksOf32And16_KeepsEveryValue()
    {
        var random = new Random(3);
        var q4 = new QuantizedMatrix(RandomBytes(random, 4 * 2 * 16), [.. Enumerable.Range(0, 8).Select(i => 0.01f * (i + 1))], new Infera.Numerics.MatMulNBitsLayout(4, 64, 4, 32), true);
        var q8 = new QuantizedMatrix(RandomBytes(random, 2 * 64), [.. Enumerable.Range(0, 8).Select(i => 0.02f * (i + 1))], new Infera.Numerics.MatMulNBitsLayout(2, 64, 8, 16), true);

        var common = QuantizedMatrix.CommonForm([q4, q8]);

        Assert.All(common, m => Assert.Equal((8, 16), (m.Layout.Bits, m.Layout.BlockSize)));
        Assert.Equal(Dequantize(q4), Dequantize(common[0]));
        Assert.Equal(Dequantize(q8), Dequantize(common[1]));
    }

    private static byte[] RandomBytes(Random random, int n)
    {
        var b = new byte[n];
        random.NextBytes(b);
        return b;
    }

    /// <summary>MatMulNBits' definition: (code − 2^(bits−1)) · scale per block along K.</summary>
    internal static float[] Dequantize(QuantizedMatrix m)
    {
        var l = m.Layout;
        var result = new float[l.N * l.K];
        for (int n = 0; n < l.N; n++)
        {
            for (int k = 0; k < l.K; k++)
            {
                int block = k / l.BlockSize, within = k % l.BlockSize;
                int offset = (n * l.PackedRowLength) + (block * l.BlobSize);
                int code = l.Bits == 8 ? m.Packed[offset + within] : (m.Packed[offset + (within / 2)] >> (4 * (within % 2))) & 0xF;
                result[(n * l.K) + k] = (code - l.DefaultZeroPoint) * m.Scales[(n * l.BlocksPerRow) + block];
            }
        }

        return result;
    }

    [Theory]
    [InlineData("Q4_0", GgufFile.SliceBytes)]
    [InlineData("Q4_0", 300)]
    [InlineData("Q8_0", 700)]
    [InlineData("F32", 5000)]
    public void ReadFloatRows_AnyRowsAnySlices_EqualGgmlDequantizationOfTheWholeTensor(string typeName, int sliceBytes)
    {
        var type = Enum.Parse<GgufType>(typeName);
        const int Rows = 12, K = 256;
        var (elements, bytes) = type == GgufType.F32 ? (1, 4) : GgufBlocks.Block(type);
        var data = new byte[Rows * K / elements * bytes];
        var random = new Random(9);
        for (int b = 0; b < data.Length / bytes; b++)
        {
            var block = data.AsSpan(b * bytes, bytes);
            random.NextBytes(block);
            if (type == GgufType.F32)
            {
                BinaryPrimitives.WriteSingleLittleEndian(block, (float)(random.NextDouble() - 0.5));
            }
            else
            {
                BinaryPrimitives.WriteUInt16LittleEndian(block, BitConverter.HalfToUInt16Bits((Half)(0.001 + (0.03 * random.NextDouble()))));
            }
        }

        using var temp = new TempDirectory();
        string path = temp.Combine("t.gguf");
        WriteSingleTensor(path, type, Rows, K, data);
        using var file = GgufFile.Open(path);
        var tensor = file.Tensors["t"];
        var whole = new float[Rows * K];
        GgufBlocks.Dequantize(type, file.ReadBytes(tensor), whole);

        foreach (var (first, count) in new[] { (0, Rows), (0, 1), (5, 4), (Rows - 1, 1) })
        {
            var rows = new float[count * K];
            file.ReadFloatRows(tensor, first, count, rows, sliceBytes);
            Assert.Equal(whole.AsSpan(first * K, count * K).ToArray(), rows);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => file.ReadFloatRows(tensor, Rows - 1, 2, new float[2 * K]));
    }

    private static void WriteSingleTensor(string path, GgufType type, int rows, int k, byte[] data)
    {
        using var stream = File.Create(path);
        using var w = new BinaryWriter(stream);
        w.Write("GGUF"u8);
        w.Write(3u);
        w.Write(1ul);
        w.Write(0ul);
        w.Write(1ul);
        w.Write((byte)'t');
        w.Write(2u);
        w.Write((ulong)k);
        w.Write((ulong)rows);
        w.Write((uint)type);
        w.Write(0ul);
        while (stream.Position % 32 != 0)
        {
            w.Write((byte)0);
        }

        w.Write(data);
    }
}
