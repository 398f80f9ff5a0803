namespace Infera.ModelBuilder;

/// <summary>Specifies the numeric format of a converted model's weights.</summary>
public enum ModelPrecision
{
    /// <summary>32-bit floating point weights and activations: the reference precision.</summary>
    Float32,

    /// <summary>16-bit floating point weights, activations and key/value cache.</summary>
    Float16,

    /// <summary>8-bit integer weights in blocks with a float scale each (<c>MatMulNBits</c>, 8 bits); float32 activations.</summary>
    Int8,

    /// <summary>4-bit integer weights in blocks with a float scale each (<c>MatMulNBits</c>, 4 bits); float32 activations.</summary>
    Int4,

    /// <summary>
    /// Each weight at the closest exact representation of the source's: float32 for float32, float16 and bfloat16 weights
    /// (float32 activations), <c>MatMulNBits</c> codes for quantized GGUF weights (Q4_0 at 4 bits, Q8_0, Q5_0 and Q6_K at 8
    /// bits, bit for bit; others near-exact at 8 bits). For sources without quantized weights it is <see cref="Float32"/>.
    /// </summary>
    Keep,
}
