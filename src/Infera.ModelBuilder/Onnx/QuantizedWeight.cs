using Infera.Numerics;

namespace Infera.ModelBuilder;

/// <summary>Block-quantized weight codes written as an initializer, with their scales (written by each reader, in its shape).</summary>
internal sealed record QuantizedWeight(string Data, float[] Scales, MatMulNBitsLayout Layout);
