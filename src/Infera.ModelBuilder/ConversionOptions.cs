namespace Infera.ModelBuilder;

/// <summary>Represents the options of a model conversion or creation.</summary>
public sealed class ConversionOptions
{
    /// <summary>Gets or sets the precision of the written weights. The default is <see cref="ModelPrecision.Float32"/>.</summary>
    public ModelPrecision Precision { get; set; } = ModelPrecision.Float32;

    /// <summary>Gets or sets the operators the graph uses. The default is <see cref="GraphStyle.Fused"/>.</summary>
    public GraphStyle GraphStyle { get; set; } = GraphStyle.Fused;

    /// <summary>
    /// Gets or sets the number of weights that share one scale in <see cref="ModelPrecision.Int4"/> and <see cref="ModelPrecision.Int8"/>
    /// models: 16, 32, 64 or 128 (the block sizes of <see cref="Infera.Numerics.MatMulNBitsLayout"/>). The default is 32.
    /// </summary>
    public int BlockSize { get; set; } = 32;

    /// <summary>
    /// Gets or sets the <c>accuracy_level</c> of <c>MatMulNBits</c>: 0 (unset), 1 (fp32), 2 (fp16), 3 (bf16) or 4 (int8 activations).
    /// <see langword="null"/> means 4 for <see cref="ModelPrecision.Int4"/> (the fastest decode on x64 CPUs) and for large
    /// matrices (at least 4 Mi weights) whose codes <see cref="ModelPrecision.Keep"/> keeps from a GGUF file (8-bit ones at
    /// level 0 are dequantized on every step), 0 otherwise.
    /// </summary>
    public int? AccuracyLevel { get; set; }

    /// <summary>
    /// Gets or sets the <c>accuracy_level</c> of <c>MatMulNBits</c> for steps of more than one token (prompts). When it differs
    /// from the decode level (<see cref="AccuracyLevel"/>), each quantized projection becomes an <c>If</c> on the step's length
    /// between two <c>MatMulNBits</c> over the same weights. The cost: ONNX Runtime prepacks the weights once per level
    /// (about the quantized weights' size again in memory), and each <c>If</c> adds microseconds per step.
    /// <see langword="null"/> (the default) leaves the choice to the machine that runs the model: for int4 models decoded at
    /// level 4 whose projections are large (hidden × intermediate size of at least 4 Mi weights), <c>model.onnx</c> runs
    /// level 4 throughout and a second graph over the same weights, <c>model.fp32-prompts.onnx</c>, runs prompts at level 0;
    /// Infera's runner loads the second on CPUs without int8 dot-product instructions (AVX-VNNI, AVX512-VNNI, Arm dot
    /// product), where level 0 processes prompts faster. Otherwise the decode level throughout.
    /// </summary>
    public int? PromptAccuracyLevel { get; set; }

    /// <summary>
    /// Gets or sets whether int4 and int8 models store the token embedding table at their precision (read with
    /// <c>GatherBlockQuantized</c>, same blocks as the projections) instead of float32: an int4 table is an eighth of the size.
    /// <see langword="null"/> means: when the table is large (vocabulary × hidden size of at least 4 Mi weights). Needs a
    /// hidden size that is a multiple of <see cref="BlockSize"/>; otherwise, and for the standard-operator graph, the table stays float32.
    /// </summary>
    public bool? QuantizeEmbeddings { get; set; }

    /// <summary>
    /// Gets or sets whether the graph computes the language-model head only at each sequence's last position: its
    /// <c>logits</c> output is then [batch, 1, vocabulary] for prompts too, which ONNX Runtime GenAI reads as each row's
    /// next-token logits (it allocates no [batch, prompt length, vocabulary] buffer). <see langword="null"/> means: only when
    /// the head is large (vocabulary × hidden size of at least 4 Mi weights), where it saves about a third of prompt
    /// processing time and, for a 151,936-token vocabulary, 311 MB of memory per 512 prompt positions.
    /// </summary>
    public bool? LastPositionLogitsOnly { get; set; }

    /// <summary>Gets or sets the number of threads ONNX Runtime uses within an operator, written to <c>genai_config.json</c>. <see langword="null"/> writes none (ONNX Runtime's default).</summary>
    public int? IntraOpThreadCount { get; set; }

    /// <summary>Gets or sets the context length written to the model; <see langword="null"/> keeps the source's.</summary>
    public int? ContextLength { get; set; }

    /// <summary>Gets or sets whether an existing, non-empty output folder is replaced. The default is <see langword="false"/>: the conversion fails instead.</summary>
    public bool Overwrite { get; set; }

    /// <summary>Validates the options and throws <see cref="ArgumentException"/> when one is out of range.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(Precision))
        {
            throw new ArgumentException($"Unknown precision {Precision}.", nameof(Precision));
        }

        if (BlockSize < 16 || BlockSize > 128 || (BlockSize & (BlockSize - 1)) != 0)
        {
            throw new ArgumentException($"The block size must be a power of two from 16 to 128; it is {BlockSize}.", nameof(BlockSize));
        }

        if (PromptAccuracyLevel is < 0 or > 4)
        {
            throw new ArgumentException($"The prompt accuracy level must be 0 to 4; it is {PromptAccuracyLevel}.", nameof(PromptAccuracyLevel));
        }

        if (AccuracyLevel is < 0 or > 4)
        {
            throw new ArgumentException($"The accuracy level must be 0 to 4; it is {AccuracyLevel}.", nameof(AccuracyLevel));
        }

        if (GraphStyle == GraphStyle.Standard && Precision is ModelPrecision.Int4 or ModelPrecision.Int8)
        {
            throw new ArgumentException("The standard-operator graph supports float32 and float16 only; use the fused graph for int8 and int4.", nameof(GraphStyle));
        }

        if (IntraOpThreadCount is < 1)
        {
            throw new ArgumentException("The thread count must be positive.", nameof(IntraOpThreadCount));
        }

        if (ContextLength is < 1)
        {
            throw new ArgumentException("The context length must be positive.", nameof(ContextLength));
        }
    }
}
