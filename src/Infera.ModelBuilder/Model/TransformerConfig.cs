namespace Infera.ModelBuilder;

/// <summary>The geometry and conventions of a Llama-family decoder, whatever format it came from.</summary>
internal sealed record TransformerConfig
{
    public required ModelArchitecture Architecture { get; init; }

    public required int HiddenSize { get; init; }

    public required int IntermediateSize { get; init; }

    public required int LayerCount { get; init; }

    public required int HeadCount { get; init; }

    public required int KeyValueHeadCount { get; init; }

    public required int VocabularySize { get; init; }

    public required int ContextLength { get; init; }

    public int HeadSize { get; init; }

    public double RopeTheta { get; init; } = 10000.0;

    /// <summary>Llama 3 style rope scaling (factor, low/high frequency factors, original context); null when none.</summary>
    public RopeScaling? RopeScaling { get; init; }

    public float RmsNormEpsilon { get; init; } = 1e-5f;

    public bool TiedEmbeddings { get; init; }

    /// <summary>True when rotary embedding rotates adjacent pairs (llama2.c); false when it rotates halves (Hugging Face).</summary>
    public bool RotaryInterleaved { get; init; }

    public bool AttentionBias { get; init; }

    /// <summary>Sliding attention window in tokens (counting the current one); null for full attention.</summary>
    public int? SlidingWindow { get; init; }

    /// <summary>Which layers use <see cref="SlidingWindow"/> (Qwen2's <c>max_window_layers</c> or <c>layer_types</c>); null when every layer does.</summary>
    public IReadOnlyList<bool>? SlidingLayers { get; init; }

    /// <summary>The attention window of one layer in tokens, or null when the layer attends to the whole context.</summary>
    public int? WindowOf(int layer) =>
        SlidingWindow is int w && w < ContextLength && (SlidingLayers is null || SlidingLayers[layer]) ? w : null;

    public int BosTokenId { get; init; } = 1;

    public IReadOnlyList<int> EosTokenIds { get; init; } = [2];

    public int PadTokenId { get; init; }

    /// <summary>The Hugging Face model type written to genai_config.json (llama, mistral, qwen2, phi3).</summary>
    public string GenAIModelType => Architecture switch
    {
        ModelArchitecture.Mistral => "mistral",
        ModelArchitecture.Qwen2 => "qwen2",
        ModelArchitecture.Phi3 => "phi3",
        _ => "llama",
    };

    public int EffectiveHeadSize => HeadSize > 0 ? HeadSize : HiddenSize / HeadCount;

    /// <summary>Checks the geometry; throws <see cref="ModelConversionException"/> describing the first inconsistency.</summary>
    public void Validate(string source)
    {
        Check(HiddenSize > 0, "hidden size", HiddenSize);
        Check(IntermediateSize > 0, "intermediate size", IntermediateSize);
        Check(LayerCount > 0, "layer count", LayerCount);
        Check(HeadCount > 0, "head count", HeadCount);
        Check(KeyValueHeadCount > 0, "key/value head count", KeyValueHeadCount);
        Check(VocabularySize > 0, "vocabulary size", VocabularySize);
        Check(ContextLength > 0, "context length", ContextLength);
        if (SlidingLayers is not null && SlidingLayers.Count != LayerCount)
        {
            throw new ModelConversionException($"{source}: layer_types names {SlidingLayers.Count} layers; the model has {LayerCount}.") { SourcePath = source };
        }

        if (SlidingWindow is < 1)
        {
            throw new ModelConversionException($"{source}: invalid sliding window {SlidingWindow}.") { SourcePath = source };
        }

        if (HeadCount % KeyValueHeadCount != 0)
        {
            throw new ModelConversionException($"{source}: the head count ({HeadCount}) is not a multiple of the key/value head count ({KeyValueHeadCount}).") { SourcePath = source };
        }

        if (HeadSize <= 0 && HiddenSize % HeadCount != 0)
        {
            throw new ModelConversionException($"{source}: the hidden size ({HiddenSize}) is not a multiple of the head count ({HeadCount}).") { SourcePath = source };
        }

        if (EffectiveHeadSize % 2 != 0)
        {
            throw new ModelConversionException($"{source}: the head size ({EffectiveHeadSize}) is odd; rotary embedding needs pairs.") { SourcePath = source };
        }

        // Guards against headers of foreign files that happen to parse: real models stay far below these.
        if ((long)HiddenSize * VocabularySize > int.MaxValue || HiddenSize > 65536 || IntermediateSize > 262144 || LayerCount > 1024 || HeadCount > 1024 || ContextLength > 16_777_216)
        {
            throw new ModelConversionException($"{source}: implausible model geometry (hidden {HiddenSize}, intermediate {IntermediateSize}, layers {LayerCount}, heads {HeadCount}, vocabulary {VocabularySize}, context {ContextLength}); the file is not a supported checkpoint.") { SourcePath = source };
        }

        void Check(bool ok, string what, int value)
        {
            if (!ok)
            {
                throw new ModelConversionException($"{source}: invalid {what} {value}; the file is not a supported checkpoint.") { SourcePath = source };
            }
        }
    }
}
