namespace Infera.Numerics;

/// <summary>
/// The tensor layout of ONNX Runtime's <c>com.microsoft.MatMulNBits</c> contrib operator for a weight <c>B</c> with
/// <c>K</c> inputs and <c>N</c> outputs (<c>Y = A × B</c>, <c>A</c> being [M, K]), quantized along <c>K</c> in blocks.
/// </summary>
/// <remarks>
/// <para>The quantizers read the weight as a row-major [N, K] matrix, i.e. <c>Bᵀ</c>: one row per output, which is
/// the layout of a Hugging Face <c>nn.Linear</c> weight (<c>out_features × in_features</c>). They write:</para>
/// <list type="bullet">
/// <item><description><c>B</c>: uint8 [N, <see cref="BlocksPerRow"/>, <see cref="BlobSize"/>]. Each row's <c>K</c> codes are packed
/// in order, <c>8 / bits</c> per byte, the lower bits first (for 4 bits: element <c>2i</c> in the low nibble, <c>2i+1</c> in the high one).
/// Codes past <c>K</c> in the last block are the block's zero point, so they dequantize to 0.</description></item>
/// <item><description><c>scales</c>: float [N × <see cref="BlocksPerRow"/>], row by row.</description></item>
/// <item><description><c>zero_points</c> (optional): uint8 [N × ceil(<see cref="BlocksPerRow"/> × bits / 8)], packed like <c>B</c> and
/// padded to whole bytes per row (a spare nibble is 8). Without it the operator assumes <c>2^(bits-1)</c>.</description></item>
/// </list>
/// <para>Dequantization is <c>value = (code - zero_point) × scale</c>. Node attributes: <c>K</c>, <c>N</c>,
/// <c>bits</c>, <c>block_size</c>.</para>
/// </remarks>
public readonly record struct MatMulNBitsLayout
{
    /// <summary>Initializes a new instance of the <see cref="MatMulNBitsLayout"/> struct.</summary>
    /// <param name="n">The number of outputs (rows of the [N, K] weight).</param>
    /// <param name="k">The number of inputs (columns of the [N, K] weight).</param>
    /// <param name="bits">Bits per code: 4 or 8.</param>
    /// <param name="blockSize">Codes per block along K: 16, 32, 64 or 128.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range, or the packed tensor would exceed 2 GiB.</exception>
    public MatMulNBitsLayout(int n, int k, int bits, int blockSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        if (bits is not (4 or 8))
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "bits must be 4 or 8.");
        }

        if (blockSize is not (16 or 32 or 64 or 128))
        {
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "blockSize must be 16, 32, 64 or 128.");
        }

        var blocks = (k + blockSize - 1) / blockSize;
        if ((long)n * blocks * blockSize > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(n), n, "The weight is too large for one tensor.");
        }

        N = n;
        K = k;
        Bits = bits;
        BlockSize = blockSize;
    }

    /// <summary>Gets the number of outputs (rows).</summary>
    public int N { get; }

    /// <summary>Gets the number of inputs (columns).</summary>
    public int K { get; }

    /// <summary>Gets the bits per code.</summary>
    public int Bits { get; }

    /// <summary>Gets the codes per block.</summary>
    public int BlockSize { get; }

    /// <summary>Gets <c>n_blocks_per_col = ceil(K / BlockSize)</c>.</summary>
    public int BlocksPerRow => (K + BlockSize - 1) / BlockSize;

    /// <summary>Gets the bytes per block, <c>BlockSize × Bits / 8</c>.</summary>
    public int BlobSize => BlockSize * Bits / 8;

    /// <summary>Gets the bytes of one packed row of <c>B</c>.</summary>
    public int PackedRowLength => BlocksPerRow * BlobSize;

    /// <summary>Gets the length of <c>B</c> in bytes, <c>N × BlocksPerRow × BlobSize</c>.</summary>
    public int PackedLength => N * PackedRowLength;

    /// <summary>Gets the number of scales, <c>N × BlocksPerRow</c>.</summary>
    public int ScaleCount => N * BlocksPerRow;

    /// <summary>Gets the bytes of one row of packed zero points, <c>ceil(BlocksPerRow × Bits / 8)</c>.</summary>
    public int ZeroPointRowLength => ((BlocksPerRow * Bits) + 7) / 8;

    /// <summary>Gets the length of <c>zero_points</c> in bytes, <c>N × ceil(BlocksPerRow × Bits / 8)</c>.</summary>
    public int ZeroPointLength => N * ZeroPointRowLength;

    /// <summary>Gets the zero point the operator assumes when <c>zero_points</c> is absent, <c>2^(Bits-1)</c>.</summary>
    public int DefaultZeroPoint => 1 << (Bits - 1);

    /// <summary>Gets the number of weights, <c>N × K</c>.</summary>
    public int WeightCount => N * K;
}
