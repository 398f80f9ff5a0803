namespace Infera.ModelBuilder;

/// <summary>One tensor of a GGUF file: its name, its dimensions innermost first (ggml <c>ne</c>), its type and where its data starts in the file.</summary>
internal sealed record GgufTensorInfo(string Name, long[] Dimensions, GgufType Type, long FileOffset)
{
    /// <summary>Gets the number of elements.</summary>
    public long ElementCount => Dimensions.Aggregate(1L, (a, d) => a * d);

    /// <summary>Gets the number of rows (every dimension but the innermost).</summary>
    public long Rows => Dimensions.Length == 0 ? 1 : ElementCount / Dimensions[0];

    /// <summary>Gets the innermost (contiguous) dimension: a Linear layer's input size.</summary>
    public long RowLength => Dimensions.Length == 0 ? 1 : Dimensions[0];

    /// <summary>Gets the size of the data in bytes.</summary>
    public long ByteCount => Rows * GgufBlocks.RowBytes(Type, RowLength);
}
