namespace Infera.ModelBuilder;

/// <summary>A readable Llama-family checkpoint: its geometry and its tensors, read one at a time so that large models stream.</summary>
internal abstract class WeightSource : IDisposable
{
    public abstract TransformerConfig Config { get; }

    /// <summary>Gets a display name of the source for messages.</summary>
    public abstract string Name { get; }

    /// <summary>Reads one tensor as float32 in the layout <see cref="WeightKind"/> documents. <paramref name="layer"/> is ignored for global tensors.</summary>
    public abstract float[] Read(WeightKind kind, int layer);

    /// <summary>
    /// Reads rows <paramref name="firstRow"/> to <paramref name="firstRow"/> + <paramref name="rowCount"/> of a
    /// vocabulary-sized matrix ([vocabulary, hidden]: <see cref="WeightKind.Embedding"/> or
    /// <see cref="WeightKind.LanguageModelHead"/>) into <paramref name="destination"/>, so that it can be quantized a slice
    /// at a time instead of being held whole as float32; returns <see langword="false"/> when the source can only read it
    /// whole (<see cref="Read"/>).
    /// </summary>
    public virtual bool TryReadRows(WeightKind kind, int firstRow, int rowCount, Memory<float> destination) => false;

    /// <summary>Checks the arguments of <see cref="TryReadRows"/>.</summary>
    protected void CheckRows(WeightKind kind, int firstRow, int rowCount, Memory<float> destination)
    {
        var c = Config;
        if (kind is not (WeightKind.Embedding or WeightKind.LanguageModelHead))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Only the embedding table and the language-model head are read by rows.");
        }

        if (firstRow < 0 || rowCount < 0 || (long)firstRow + rowCount > c.VocabularySize || destination.Length != (long)rowCount * c.HiddenSize)
        {
            throw new ArgumentOutOfRangeException(nameof(rowCount));
        }
    }

    /// <summary>
    /// Reads a matrix in the <c>MatMulNBits</c> form the source stores it in (GGUF quantized tensors), or returns
    /// <see langword="null"/> when the source stores it as floats. Only <see cref="ModelPrecision.Keep"/> conversions ask.
    /// </summary>
    public virtual QuantizedMatrix? ReadQuantized(WeightKind kind, int layer) => null;

    /// <summary>Returns the number of elements <paramref name="kind"/> has for this geometry.</summary>
    public long ExpectedLength(WeightKind kind)
    {
        var c = Config;
        long hd = c.EffectiveHeadSize;
        return kind switch
        {
            WeightKind.Embedding or WeightKind.LanguageModelHead => (long)c.VocabularySize * c.HiddenSize,
            WeightKind.AttentionNorm or WeightKind.FeedForwardNorm or WeightKind.FinalNorm => c.HiddenSize,
            WeightKind.Query => c.HeadCount * hd * c.HiddenSize,
            WeightKind.Key or WeightKind.Value => c.KeyValueHeadCount * hd * c.HiddenSize,
            WeightKind.QueryBias => c.HeadCount * hd,
            WeightKind.KeyBias or WeightKind.ValueBias => c.KeyValueHeadCount * hd,
            WeightKind.AttentionOutput => c.HeadCount * hd * c.HiddenSize,
            WeightKind.Gate or WeightKind.Up or WeightKind.Down => (long)c.IntermediateSize * c.HiddenSize,
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}
