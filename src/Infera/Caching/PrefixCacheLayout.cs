using System.Text.Json;

namespace Infera;

/// <summary>
/// What the prefix cache needs to know about a model's key/value state: its size per token, whether GenAI allocates it
/// for the whole <c>max_length</c> up front, and how a kept sequence may be continued exactly.
/// </summary>
internal sealed class PrefixCacheLayout
{
    /// <summary>Graph node name our model builder gives the "more than one token" test of models whose int4 projections run at one accuracy level for prompts and another for single-token steps.</summary>
    internal const string SplitAccuracyMarker = "/model/step/IsPrompt";

    /// <summary>Graph node prefix of GenAI's model builder's attention-mask reformatting, whose input-ids <c>Expand</c> rejects several new tokens after generated ones (<c>invalid expand shape</c>).</summary>
    internal const string AttentionMaskReformatMarker = "/model/attn_mask_reformat/input_ids_subgraph/";

    /// <summary>Gets the bytes of keys and values one token takes over all layers.</summary>
    public required long BytesPerToken { get; init; }

    /// <summary>Gets a value indicating whether GenAI allocates the key/value buffers for the generator's whole <c>max_length</c> (<c>past_present_share_buffer</c>).</summary>
    public required bool SharedBuffer { get; init; }

    /// <summary>
    /// Gets a value indicating whether steps of several tokens compute keys and values differently from single-token
    /// steps (int4 at separate prompt/decode accuracy levels): then only entries computed by a several-token step are reused.
    /// </summary>
    public required bool SplitAccuracy { get; init; }

    /// <summary>Gets a value indicating whether the tokens after a rewind must be appended one at a time (the model rejects several at once).</summary>
    public required bool AppendOneAtATime { get; init; }

    /// <summary>Gets a value indicating whether the model's own search defaults (<c>genai_config.json</c> <c>search</c>) are greedy.</summary>
    public required bool DefaultSearchIsGreedy { get; init; }

    /// <summary>Gets the vocabulary size (the logits buffer a kept generator holds is counted too).</summary>
    public required int VocabularySize { get; init; }

    /// <summary>Gets the context length.</summary>
    public required int ContextLength { get; init; }

    /// <summary>Gets the key/value bytes of one sequence as long as the context.</summary>
    public long ContextBytes => BytesPerToken * ContextLength;

    /// <summary>Reads the layout from a model folder's <c>genai_config.json</c> and decoder graph.</summary>
    public static PrefixCacheLayout Read(ModelFolder folder, int contextLength)
    {
        var model = folder.Config.GetProperty("model");
        var decoder = model.TryGetProperty("decoder", out var d) ? d : default;
        var layers = ReadInt(decoder, "num_hidden_layers") ?? 1;
        var heads = ReadInt(decoder, "num_attention_heads") ?? 1;
        var kvHeads = ReadInt(decoder, "num_key_value_heads") ?? heads;
        var hidden = ReadInt(decoder, "hidden_size") ?? 0;
        var headSize = ReadInt(decoder, "head_size") ?? (heads > 0 && hidden > 0 ? hidden / heads : 64);
        var search = folder.Config.TryGetProperty("search", out var s) ? s : default;
        var shared = search.ValueKind == JsonValueKind.Object
            && search.TryGetProperty("past_present_share_buffer", out var share)
            && share.ValueKind == JsonValueKind.True;

        // GenAI's defaults: no sampling, one beam.
        var greedy = search.ValueKind != JsonValueKind.Object
            || ((!search.TryGetProperty("do_sample", out var sample) || sample.ValueKind == JsonValueKind.False)
                && (!search.TryGetProperty("num_beams", out var beams) || !beams.TryGetInt32(out var n) || n <= 1));

        var graph = System.IO.Path.Combine(folder.Path, folder.DecoderFile);
        var markers = GraphScanner.FindAll(graph, [SplitAccuracyMarker, AttentionMaskReformatMarker]);

        // Keys and values are counted at 4 bytes an element: exact for fp32 state, an upper bound for fp16.
        return new PrefixCacheLayout
        {
            BytesPerToken = 2L * layers * kvHeads * headSize * sizeof(float),
            SharedBuffer = shared,
            DefaultSearchIsGreedy = greedy,
            SplitAccuracy = markers[0],
            AppendOneAtATime = markers[1],
            VocabularySize = folder.VocabularySize,
            ContextLength = contextLength,
        };
    }

    /// <summary>
    /// The default budget: room for two sequences as long as the context, at least 64 MiB, at most an eighth of the
    /// memory available to the process.
    /// </summary>
    public long DefaultBudgetBytes()
    {
        const long Minimum = 64L << 20;
        var available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var ceiling = available > 0 ? Math.Max(Minimum, available / 8) : 1L << 30;
        return Math.Clamp(2 * ContextBytes, Minimum, ceiling);
    }

    /// <summary>The <c>max_length</c> a cacheable generator gets: room for the request and for a conversation to grow.</summary>
    public int CapacityFor(int maxLength)
    {
        var roomy = Math.Max(2L * maxLength, maxLength + 2048L);
        return (int)Math.Min(ContextLength, roomy);
    }

    /// <summary>The bytes a kept generator holds: its key/value buffers and its last logits.</summary>
    public long BytesOf(int capacity, int validTokens, int lastStepTokens)
    {
        var kv = BytesPerToken * (SharedBuffer ? capacity : validTokens + 1);
        return kv + ((long)VocabularySize * sizeof(float) * Math.Max(1, lastStepTokens));
    }

    private static int? ReadInt(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.TryGetInt32(out var number) && number > 0 ? number : null;
}
