using Infera.Numerics;

namespace Infera.ModelBuilder;

/// <summary>
/// A [N, K] weight already in <c>MatMulNBits</c> form (codes, one float scale per block, the default zero point
/// 2^(bits-1)), as a source that stores quantized weights provides it. <see cref="Exact"/> tells whether the codes
/// represent the source's values bit for bit.
/// </summary>
internal sealed record QuantizedMatrix(byte[] Packed, float[] Scales, MatMulNBitsLayout Layout, bool Exact)
{
    /// <summary>Gets the same values at 8 bits: a 4-bit code c becomes c − 8 + 128 with the same scale, which is exact.</summary>
    public QuantizedMatrix ToEightBits()
    {
        if (Layout.Bits == 8)
        {
            return this;
        }

        var layout = new MatMulNBitsLayout(Layout.N, Layout.K, 8, Layout.BlockSize);
        var packed = new byte[layout.PackedLength];
        for (int i = 0; i < Packed.Length; i++)
        {
            packed[2 * i] = (byte)((Packed[i] & 0xF) + 120);
            packed[(2 * i) + 1] = (byte)((Packed[i] >> 4) + 120);
        }

        return new QuantizedMatrix(packed, Scales, layout, Exact);
    }

    /// <summary>Gets the same values in blocks of <paramref name="blockSize"/> (a divisor of the current size): each scale repeats, which is exact.</summary>
    public QuantizedMatrix WithBlockSize(int blockSize)
    {
        if (Layout.BlockSize == blockSize)
        {
            return this;
        }

        if (Layout.BlockSize % blockSize != 0 || Layout.K % Layout.BlockSize != 0)
        {
            throw new InvalidOperationException($"Cannot split blocks of {Layout.BlockSize} into blocks of {blockSize}.");
        }

        // The codes of whole blocks are contiguous per row, so only the scales change.
        var layout = new MatMulNBitsLayout(Layout.N, Layout.K, Layout.Bits, blockSize);
        int factor = Layout.BlockSize / blockSize;
        var scales = new float[layout.ScaleCount];
        for (int i = 0; i < scales.Length; i++)
        {
            scales[i] = Scales[i / factor];
        }

        return new QuantizedMatrix(Packed, scales, layout, Exact);
    }

    /// <summary>Concatenates the rows of matrices with the same K, bits and block size.</summary>
    public static QuantizedMatrix ConcatRows(IReadOnlyList<QuantizedMatrix> parts)
    {
        var first = parts[0].Layout;
        int n = parts.Sum(p => p.Layout.N);
        var layout = new MatMulNBitsLayout(n, first.K, first.Bits, first.BlockSize);
        var packed = new byte[layout.PackedLength];
        var scales = new float[layout.ScaleCount];
        int p = 0, s = 0;
        foreach (var part in parts)
        {
            part.Packed.CopyTo(packed, p);
            part.Scales.CopyTo(scales, s);
            p += part.Packed.Length;
            s += part.Scales.Length;
        }

        return new QuantizedMatrix(packed, scales, layout, parts.All(x => x.Exact));
    }

    /// <summary>Returns the matrix with its rows rearranged: row r of the result is row <c>map(r)</c> of this one, or zeros when it is −1.</summary>
    public QuantizedMatrix MapRows(int rows, Func<int, int> map)
    {
        var layout = new MatMulNBitsLayout(rows, Layout.K, Layout.Bits, Layout.BlockSize);
        var packed = new byte[layout.PackedLength];
        var scales = new float[layout.ScaleCount];
        int rowBytes = layout.PackedRowLength, rowScales = layout.BlocksPerRow;
        byte zero = Layout.Bits == 4 ? (byte)0x88 : (byte)0x80;
        for (int r = 0; r < rows; r++)
        {
            int source = map(r);
            if (source < 0)
            {
                packed.AsSpan(r * rowBytes, rowBytes).Fill(zero);
                continue;
            }

            Packed.AsSpan(source * rowBytes, rowBytes).CopyTo(packed.AsSpan(r * rowBytes));
            Scales.AsSpan(source * rowScales, rowScales).CopyTo(scales.AsSpan(r * rowScales));
        }

        return new QuantizedMatrix(packed, scales, layout, Exact);
    }

    /// <summary>Brings matrices to one form (bits and block size) without changing a value: 8 bits if any has 8, the smallest block.</summary>
    public static IReadOnlyList<QuantizedMatrix> CommonForm(IReadOnlyList<QuantizedMatrix> parts)
    {
        bool eight = parts.Any(p => p.Layout.Bits == 8) && parts.Any(p => p.Layout.Bits == 4);
        int block = parts.Min(p => p.Layout.BlockSize);
        return parts.Select(p => (eight ? p.ToEightBits() : p).WithBlockSize(block)).ToList();
    }
}
