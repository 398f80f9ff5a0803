using Infera.Numerics;

namespace Infera.ModelBuilder;

/// <summary>Block-quantized weight codes written as an initializer, with their scales (written by each reader, in its shape).</summary>
internal sealed record QuantizedWeight(string Data, float[] Scales, MatMulNBitsLayout Layout);

/// <summary>A <c>MatMulNBits</c> weight whose codes (<paramref name="Data"/>) and scales (<paramref name="Scales"/>) are written as initializers of these names.</summary>
internal sealed record WrittenWeight(string Data, string Scales, MatMulNBitsLayout Layout);
