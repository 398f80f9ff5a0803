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
}
