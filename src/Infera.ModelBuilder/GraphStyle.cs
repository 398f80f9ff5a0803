namespace Infera.ModelBuilder;

/// <summary>Specifies which operators a converted model's graph uses.</summary>
public enum GraphStyle
{
    /// <summary>
    /// ONNX Runtime's fused operators, as ONNX Runtime GenAI's own builder emits them: <c>GroupQueryAttention</c> with rotary
    /// embedding inside and a key/value buffer shared between past and present, <c>SimplifiedLayerNormalization</c>,
    /// <c>SkipSimplifiedLayerNormalization</c> and <c>MatMulNBits</c>. The fastest choice on ONNX Runtime.
    /// </summary>
    Fused,

    /// <summary>
    /// Standard ONNX operators only (opset 21), with separate past and present key/value tensors and explicit position ids:
    /// slower, but portable to any ONNX runtime. Float32 and float16 only.
    /// </summary>
    Standard,
}
