using Infera.Numerics;
using Onnx;
using static Infera.ModelBuilder.OnnxGraphBuilder;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Infera.ModelBuilder;

/// <summary>
/// Writes a Llama-family decoder as an ONNX graph in the layout ONNX Runtime GenAI expects (inputs <c>input_ids</c>,
/// <c>attention_mask</c>, <c>past_key_values.%d.key/value</c>; outputs <c>logits</c>, <c>present.%d.key/value</c>).
/// </summary>
internal sealed partial class DecoderGraphWriter
{
    /// <summary>
    /// The file name of the decoder graph whose prompts run <c>MatMulNBits</c> at the prompt accuracy level (an <c>If</c> per
    /// projection), written beside <c>model.onnx</c> (one level throughout) when the levels differ by default. Infera's runner
    /// loads it on CPUs without int8 dot-product instructions, where level 0 processes prompts faster (Infera.ModelFolder).
    /// </summary>
    public const string FloatPromptsGraphFile = "model.fp32-prompts.onnx";

    private const string StepPrefix = "/model/step/";

    private const long LargeHeadThreshold = 1L << 22;

    /// <summary>The float32 elements of one slice of rows of the embedding table or the head quantized at a time (16 MiB).</summary>
    private const int RowSliceElements = 1 << 22;

    private const string HeadName = "/lm_head/MatMul";

    // Projections at least this large (hidden × intermediate weights) make prompts faster at accuracy_level 0 by more
    // than the per-step cost of an If node; below it (stories260K) the If would cost more than it saves.
    private const long LargeProjectionThreshold = 1L << 22;

    private readonly WeightSource _source;
    private readonly TransformerConfig _config;
    private readonly ConversionOptions _options;
    private readonly OnnxGraphBuilder _graph;
    private readonly IProgress<double>? _progress;
    private readonly CancellationToken _cancellationToken;
    private readonly DataType _ioType;
    private readonly int _headSize;
    private readonly int _paddedHeadSize;
    private readonly int _totalSteps;

    // Whether matrices the source stores quantized keep their codes (ModelPrecision.Keep, fused graph).
    private readonly bool _keep;
    private int _steps;
    private float[]? _embedding;

    private DecoderGraphWriter(WeightSource source, ConversionOptions options, ExternalDataWriter external, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        _source = source;
        _config = source.Config;
        _options = options;
        _graph = new OnnxGraphBuilder("main_graph", external);
        _progress = progress;
        _cancellationToken = cancellationToken;
        _ioType = options.Precision == ModelPrecision.Float16 ? DataType.Float16 : DataType.Float;
        _headSize = _config.EffectiveHeadSize;

        // ONNX Runtime's CPU GroupQueryAttention applies its built-in rotary only to head sizes that are multiples of 16:
        // zero-padded heads give identical results.
        _paddedHeadSize = options.GraphStyle == GraphStyle.Fused ? (_headSize + 15) / 16 * 16 : _headSize;
        _totalSteps = (_config.LayerCount * 8) + 4;
        _keep = options.Precision == ModelPrecision.Keep && options.GraphStyle == GraphStyle.Fused;
    }

    /// <summary>Builds the model; tensors stream through <paramref name="external"/> one at a time.</summary>
    public static (ModelProto Model, GraphInfo Info) Build(WeightSource source, ConversionOptions options, ExternalDataWriter external, IProgress<double>? progress, CancellationToken cancellationToken)
    {
        var writer = new DecoderGraphWriter(source, options, external, progress, cancellationToken);
        var info = options.GraphStyle == GraphStyle.Fused ? writer.BuildFused() : writer.BuildStandard();
        var model = new ModelProto
        {
            IrVersion = 10,
            ProducerName = "Infera.ModelBuilder",
            ProducerVersion = typeof(DecoderGraphWriter).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = writer._graph.Graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 21 });
        if (options.GraphStyle == GraphStyle.Fused)
        {
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        }
        return (model, info);
    }

    private string? _isPromptStep;

    // The quantized embedding table's codes, which a tied head writes again as its own initializer.
    private WrittenWeight? _tiedHead;

    /// <summary>The accuracy level of steps of more than one token: the option, or 0 for large int4 models decoded at level 4.</summary>
    private int PromptAccuracyLevel(int accuracy, int bits) => _options.PromptAccuracyLevel
        ?? ((_options.Precision == ModelPrecision.Int4 || (_keep && bits == 4)) && accuracy == 4 && (long)_config.HiddenSize * _config.IntermediateSize >= LargeProjectionThreshold ? 0 : accuracy);

    /// <summary>A boolean scalar: whether this step processes more than one token.</summary>
    private string IsPromptStep()
    {
        if (_isPromptStep is null)
        {
            string shape = _graph.Node("Shape", StepPrefix + "InputShape", ["input_ids"]);
            string length = _graph.Node("Gather", StepPrefix + "SequenceLength", [shape, _graph.Int64Constant(true, 1)], null, string.Empty, Int("axis", 0));
            _isPromptStep = _graph.Node("Greater", StepPrefix + "IsPrompt", [length, _graph.Int64Constant(true, 1)]);
        }

        return _isPromptStep;
    }

    private bool LastPositionOnly => _options.LastPositionLogitsOnly ?? ((long)_config.VocabularySize * _config.HiddenSize >= LargeHeadThreshold);

    private GraphInfo BuildFused()
    {
        var c = _config;
        int kvHeads = c.KeyValueHeadCount;
        _graph.AddInput("input_ids", DataType.Int64, "batch_size", "sequence_length");
        _graph.AddInput("attention_mask", DataType.Int64, "batch_size", "total_sequence_length");
        for (int l = 0; l < c.LayerCount; l++)
        {
            _graph.AddInput($"past_key_values.{l}.key", _ioType, "batch_size", kvHeads, "past_sequence_length", _paddedHeadSize);
            _graph.AddInput($"past_key_values.{l}.value", _ioType, "batch_size", kvHeads, "past_sequence_length", _paddedHeadSize);
        }

        // A last-position head declares logits [batch, 1, vocabulary]: ONNX Runtime GenAI then binds a one-position
        // output for prompts too (no [batch, prompt length, vocabulary] buffer, 311 MB for a 512-token prompt of a
        // 151,936-token vocabulary) and reads it as each row's next-token logits.
        _graph.AddOutput("logits", _ioType, "batch_size", LastPositionOnly ? 1 : "sequence_length", c.VocabularySize);
        for (int l = 0; l < c.LayerCount; l++)
        {
            _graph.AddOutput($"present.{l}.key", _ioType, "batch_size", kvHeads, "total_sequence_length", _paddedHeadSize);
            _graph.AddOutput($"present.{l}.value", _ioType, "batch_size", kvHeads, "total_sequence_length", _paddedHeadSize);
        }

        // GroupQueryAttention wants each row's last position (seqlens_k) and the total length as int32.
        string one = _graph.Int64Constant(false, 1);
        string sum = _graph.Node("ReduceSum", "/model/attn_mask_reformat/ReduceSum", ["attention_mask", one], null, string.Empty, Int("keepdims", 0));
        string seqlens64 = _graph.Node("Sub", "/model/attn_mask_reformat/Sub", [sum, one]);
        string seqlens = _graph.Node("Cast", "/model/attn_mask_reformat/Sub/Cast", [seqlens64], ["/model/attn_mask_reformat/seqlens_k"], string.Empty, Int("to", (long)DataType.Int32));
        string maskShape = _graph.Node("Shape", "/model/attn_mask_reformat/Shape", ["attention_mask"]);
        string total64 = _graph.Node("Gather", "/model/attn_mask_reformat/Gather", [maskShape, one], null, string.Empty, Int("axis", 0));
        string total = _graph.Node("Cast", "/model/attn_mask_reformat/Gather/Cast", [total64], ["/model/attn_mask_reformat/total_seq_len"], string.Empty, Int("to", (long)DataType.Int32));

        WriteRotaryCaches(c.ContextLength, _paddedHeadSize, _headSize);

        string embedded = Embedding(allowQuantized: true);
        string? residual = null;
        string normed = string.Empty;
        string? pendingSkip = null;
        for (int l = 0; l < c.LayerCount; l++)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            string prefix = $"/model/layers.{l}";
            string attnNorm = Norm($"model.layers.{l}.input_layernorm.weight", WeightKind.AttentionNorm, l);
            if (residual is null)
            {
                normed = _graph.Node("SimplifiedLayerNormalization", $"{prefix}/input_layernorm/LayerNorm", [embedded, attnNorm], [$"{prefix}/input_layernorm/output_0"], string.Empty, Int("axis", -1), Float("epsilon", c.RmsNormEpsilon), Int("stash_type", 1));
                residual = embedded;
            }
            else
            {
                (normed, residual) = SkipNorm($"{prefix}/input_layernorm", residual, pendingSkip!, attnNorm);
            }

            string qkv = QkvProjection(l, prefix, normed);
            string attention = _graph.Node(
                "GroupQueryAttention",
                $"{prefix}/attn/GroupQueryAttention",
                [qkv, string.Empty, string.Empty, $"past_key_values.{l}.key", $"past_key_values.{l}.value", seqlens, total, "cos_cache", "sin_cache"],
                [$"{prefix}/attn/GroupQueryAttention/output_0", $"present.{l}.key", $"present.{l}.value"],
                "com.microsoft",
                Int("do_rotary", 1),
                Int("kv_num_heads", kvHeads),
                // local_window_size counts the current token, as Hugging Face's sliding_window does (checked against the reference).
                Int("local_window_size", c.WindowOf(l) ?? -1),
                Int("num_heads", c.HeadCount),
                Int("rotary_interleaved", c.RotaryInterleaved ? 1 : 0),
                Float("scale", 1f / MathF.Sqrt(_headSize)),
                Float("softcap", 0f));

            // Padding the heads inserts columns inside quantization blocks: padded models take the float path there.
            var woCodes = _keep && _paddedHeadSize == _headSize ? _source.ReadQuantized(WeightKind.AttentionOutput, l) : null;
            float[]? wo = woCodes is null ? PadColumns(_source.Read(WeightKind.AttentionOutput, l), c.HiddenSize) : null;
            string attnOut = Linear($"{prefix}/attn/o_proj/MatMul", attention, wo, c.HiddenSize, c.HeadCount * _paddedHeadSize, codes: woCodes);
            Step();

            string ffnNorm = Norm($"model.layers.{l}.post_attention_layernorm.weight", WeightKind.FeedForwardNorm, l);
            (normed, residual) = SkipNorm($"{prefix}/post_attention_layernorm", residual, attnOut, ffnNorm);
            pendingSkip = FeedForward(prefix, normed);
        }

        string finalNorm = Norm("model.norm.weight", WeightKind.FinalNorm, 0);
        string final = _graph.Node("SkipSimplifiedLayerNormalization", "/model/norm/SkipLayerNorm", [residual!, pendingSkip!, finalNorm], ["/model/norm/output_0"], "com.microsoft", Float("epsilon", c.RmsNormEpsilon));
        bool lastOnly = LastPositionOnly;
        LanguageModelHead(final, seqlens64, lastOnly);
        _progress?.Report(1.0);
        return new GraphInfo(_paddedHeadSize, SharedKeyValueBuffer: true, HasPositionIds: false, _ioType == DataType.Float16, lastOnly, _isPromptStep is not null && _options.PromptAccuracyLevel is null);
    }

    private void Step()
    {
        _steps++;
        _progress?.Report(Math.Min(0.99, (double)_steps / _totalSteps));
        _cancellationToken.ThrowIfCancellationRequested();
    }

    private (string Normed, string Sum) SkipNorm(string name, string input, string skip, string gamma)
    {
        var outputs = new[] { $"{name}/output_0", string.Empty, string.Empty, $"{name}/output_3" };
        _graph.Node("SkipSimplifiedLayerNormalization", $"{name}/SkipLayerNorm", [input, skip, gamma], outputs, "com.microsoft", Float("epsilon", _config.RmsNormEpsilon));
        return (outputs[0], outputs[3]);
    }

    private string Embedding(bool allowQuantized = false)
    {
        // A source that stores the table in codes MatMulNBits reads exactly keeps it so: the codes are gathered, and a
        // tied head gets the same codes.
        if (allowQuantized && _keep && _ioType == DataType.Float && _source.ReadQuantized(WeightKind.Embedding, 0) is { Exact: true } codes
            && _config.HiddenSize % codes.Layout.BlockSize == 0)
        {
            string keptOutput = GatherQuantized(WriteCodes(codes, "model.embed_tokens.weight"));
            if (_config.TiedEmbeddings)
            {
                _tiedHead = WriteLinearCodes(codes, HeadName);
            }

            Step();
            return keptOutput;
        }

        if (allowQuantized && QuantizedEmbeddings)
        {
            // Quantized like a MatMulNBits weight (symmetric blocks along the hidden size, default zero point), which
            // is GatherBlockQuantized's layout for uint8 data: [vocabulary, hidden × bits / 8] with [vocabulary, blocks] scales.
            // The codes are written in MatMulNBits' [vocabulary, blocks, blob] shape (one block per blob along the last
            // axis); the gathered [.., blocks, block] rows are reshaped to the hidden size. A tied head writes the same
            // codes again as its own initializer: ONNX Runtime prepacks the head's copy (reading it all, then releasing
            // it) and maps the table's from the file, where only the rows that prompts gather become resident.
            var table = QuantizedRows(WeightKind.Embedding, _options.Precision == ModelPrecision.Int4 ? 4 : 8);
            string quantizedOutput = GatherQuantized(WriteCodes(table, "model.embed_tokens.weight"));
            if (_config.TiedEmbeddings)
            {
                _tiedHead = WriteLinearCodes(table, HeadName);
            }

            Step();
            return quantizedOutput;
        }

        _embedding = _source.Read(WeightKind.Embedding, 0);
        CheckLength(_embedding, WeightKind.Embedding);
        const string Name = "model.embed_tokens.weight";
        WriteFloatTensor(Name, [_config.VocabularySize, _config.HiddenSize], _embedding);
        string output = _graph.Node("Gather", "/model/embed_tokens/Gather", [Name, "input_ids"], null, string.Empty, Int("axis", 0));

        if (!_config.TiedEmbeddings)
        {
            _embedding = null;
        }

        Step();
        return output;
    }

    /// <summary>The rows of a quantized [vocabulary, blocks, blob] table for <c>input_ids</c>, reshaped to [batch, sequence, hidden].</summary>
    private string GatherQuantized(QuantizedWeight table)
    {
        var c = _config;
        string scaleName = _graph.Initializer<float>("model.embed_tokens.weight_scales", DataType.Float, [c.VocabularySize, table.Layout.BlocksPerRow, 1], table.Scales);
        string rows = _graph.Node(
            "GatherBlockQuantized",
            "/model/embed_tokens/GatherBlockQuantized",
            [table.Data, "input_ids", scaleName],
            null,
            "com.microsoft",
            Int("bits", table.Layout.Bits),
            Int("block_size", table.Layout.BlockSize),
            Int("gather_axis", 0),
            Int("quantize_axis", 2));
        return _graph.Node("Reshape", "/model/embed_tokens/Reshape", [rows, _graph.Int64Constant(false, 0, 0, c.HiddenSize)]);
    }

    /// <summary>
    /// The embedding table or the language-model head in <c>MatMulNBits</c> codes. When the source reads it a slice of
    /// rows at a time (<see cref="WeightSource.TryReadRows"/>), each slice is quantized as it is read, so the float32
    /// matrix (545 MB for a 151,936 × 896 vocabulary, 2.1 GB for 128,256 × 4,096) is never held whole; otherwise it is read whole.
    /// </summary>
    private QuantizedMatrix QuantizedRows(WeightKind kind, int bits)
    {
        var c = _config;
        var layout = new MatMulNBitsLayout(c.VocabularySize, c.HiddenSize, bits, _options.BlockSize);
        int rowsPerSlice = Math.Max(1, RowSliceElements / c.HiddenSize);
        var slice = new float[Math.Min(rowsPerSlice, c.VocabularySize) * c.HiddenSize];
        if (!_source.TryReadRows(kind, 0, slice.Length / c.HiddenSize, slice))
        {
            var whole = _source.Read(kind, 0);
            CheckLength(whole, kind);
            var (packed, scales, _) = WeightQuantizer.Quantize(whole, c.VocabularySize, c.HiddenSize, bits, _options.BlockSize);
            return new QuantizedMatrix(packed, scales, layout, Exact: true);
        }

        var tablePacked = new byte[layout.PackedLength];
        var tableScales = new float[layout.ScaleCount];
        for (int first = 0; first < c.VocabularySize; first += rowsPerSlice)
        {
            int rows = Math.Min(rowsPerSlice, c.VocabularySize - first);
            var part = slice.AsMemory(0, rows * c.HiddenSize);
            if (first > 0 && !_source.TryReadRows(kind, first, rows, part))
            {
                throw new InvalidOperationException($"{_source.Name}: rows {first}-{first + rows} of {kind} could not be read.");
            }

            WeightQuantizer.Quantize(
                part,
                rows,
                c.HiddenSize,
                bits,
                _options.BlockSize,
                tablePacked.AsMemory((int)((long)first * layout.PackedRowLength), rows * layout.PackedRowLength),
                tableScales.AsMemory(first * layout.BlocksPerRow, rows * layout.BlocksPerRow));
        }

        return new QuantizedMatrix(tablePacked, tableScales, layout, Exact: true);
    }

    /// <summary>Whether the embedding table is stored quantized: the option, or by default large tables of int4/int8 models.</summary>
    private bool QuantizedEmbeddings =>
        _options.Precision is ModelPrecision.Int4 or ModelPrecision.Int8
        && _ioType == DataType.Float
        && _config.HiddenSize % _options.BlockSize == 0
        && (_options.QuantizeEmbeddings ?? ((long)_config.VocabularySize * _config.HiddenSize >= LargeHeadThreshold));

    private string Norm(string name, WeightKind kind, int layer)
    {
        var weights = _source.Read(kind, layer);
        CheckLength(weights, kind);
        WriteFloatTensor(name, [weights.Length], weights);
        return name;
    }

    private void CheckLength(float[] weights, WeightKind kind)
    {
        long expected = _source.ExpectedLength(kind);
        if (weights.LongLength != expected)
        {
            throw new ModelConversionException($"{_source.Name}: tensor {kind} has {weights.LongLength} elements, expected {expected}.") { SourcePath = _source.Name };
        }
    }

    private string QkvProjection(int layer, string prefix, string input)
    {
        var c = _config;
        int qRows = c.HeadCount * _paddedHeadSize;
        int kvRows = c.KeyValueHeadCount * _paddedHeadSize;
        int rows = qRows + (2 * kvRows);
        if (_keep && KeptQkv(layer) is { } codes)
        {
            Step();
            return QkvBias(layer, prefix, Linear($"{prefix}/attn/qkv_proj/MatMul", input, null, rows, c.HiddenSize, codes: codes), rows, qRows, kvRows);
        }

        var fused = new float[(long)rows * c.HiddenSize];
        var q = _source.Read(WeightKind.Query, layer);
        CheckLength(q, WeightKind.Query);
        PadHeadRows(q, c.HeadCount, c.HiddenSize, fused.AsSpan(0, qRows * c.HiddenSize));
        var k = _source.Read(WeightKind.Key, layer);
        CheckLength(k, WeightKind.Key);
        PadHeadRows(k, c.KeyValueHeadCount, c.HiddenSize, fused.AsSpan(qRows * c.HiddenSize, kvRows * c.HiddenSize));
        var v = _source.Read(WeightKind.Value, layer);
        CheckLength(v, WeightKind.Value);
        PadHeadRows(v, c.KeyValueHeadCount, c.HiddenSize, fused.AsSpan((qRows + kvRows) * c.HiddenSize, kvRows * c.HiddenSize));
        Step();
        string output = Linear($"{prefix}/attn/qkv_proj/MatMul", input, fused, rows, c.HiddenSize);
        Step();
        return QkvBias(layer, prefix, output, rows, qRows, kvRows);
    }

    /// <summary>
    /// The fused query/key/value codes of a source that stores the three quantized: brought to one form without changing a
    /// value, padded heads as zero rows. <see langword="null"/> when one of them is stored as floats.
    /// </summary>
    private QuantizedMatrix? KeptQkv(int layer)
    {
        var c = _config;
        var q = _source.ReadQuantized(WeightKind.Query, layer);
        var k = q is null ? null : _source.ReadQuantized(WeightKind.Key, layer);
        var v = k is null ? null : _source.ReadQuantized(WeightKind.Value, layer);
        if (q is null || k is null || v is null)
        {
            return null;
        }

        var parts = QuantizedMatrix.CommonForm([q, k, v]);
        int[] heads = [c.HeadCount, c.KeyValueHeadCount, c.KeyValueHeadCount];
        var padded = parts.Select((p, i) => p.MapRows(heads[i] * _paddedHeadSize, r =>
        {
            int s = SourceDimension(r % _paddedHeadSize);
            return s < 0 ? -1 : ((r / _paddedHeadSize) * _headSize) + s;
        })).ToList();
        return QuantizedMatrix.ConcatRows(padded);
    }

    private string QkvBias(int layer, string prefix, string output, int rows, int qRows, int kvRows)
    {
        var c = _config;
        if (!c.AttentionBias)
        {
            return output;
        }

        var bias = new float[rows];
        var qb = _source.Read(WeightKind.QueryBias, layer);
        CheckLength(qb, WeightKind.QueryBias);
        PadHeadRows(qb, c.HeadCount, 1, bias.AsSpan(0, qRows));
        var kb = _source.Read(WeightKind.KeyBias, layer);
        CheckLength(kb, WeightKind.KeyBias);
        PadHeadRows(kb, c.KeyValueHeadCount, 1, bias.AsSpan(qRows, kvRows));
        var vb = _source.Read(WeightKind.ValueBias, layer);
        CheckLength(vb, WeightKind.ValueBias);
        PadHeadRows(vb, c.KeyValueHeadCount, 1, bias.AsSpan(qRows + kvRows, kvRows));
        string biasName = $"model.layers.{layer}.attn.qkv_proj.bias";
        WriteFloatTensor(biasName, [rows], bias);
        return _graph.Node("Add", $"{prefix}/attn/qkv_proj/Add", [output, biasName]);
    }

    private string FeedForward(string prefix, string input)
    {
        var c = _config;
        int layer = int.Parse(prefix.AsSpan(prefix.LastIndexOf('.') + 1), System.Globalization.CultureInfo.InvariantCulture);
        var (gateW, gateCodes) = LinearWeights(WeightKind.Gate, layer);
        string gate = Linear($"{prefix}/mlp/gate_proj/MatMul", input, gateW, c.IntermediateSize, c.HiddenSize, codes: gateCodes);
        Step();
        var (upW, upCodes) = LinearWeights(WeightKind.Up, layer);
        string up = Linear($"{prefix}/mlp/up_proj/MatMul", input, upW, c.IntermediateSize, c.HiddenSize, codes: upCodes);
        Step();
        string sigmoid = _graph.Node("Sigmoid", $"{prefix}/mlp/act_fn/Sigmoid", [gate]);
        string silu = _graph.Node("Mul", $"{prefix}/mlp/act_fn/Mul", [gate, sigmoid]);
        string product = _graph.Node("Mul", $"{prefix}/mlp/Mul", [silu, up]);
        var (downW, downCodes) = LinearWeights(WeightKind.Down, layer);
        string down = Linear($"{prefix}/mlp/down_proj/MatMul", product, downW, c.HiddenSize, c.IntermediateSize, codes: downCodes);
        Step();
        return down;
    }

    /// <summary>A matrix as the source stores it: its codes when the conversion keeps them and the source has them, else its float32 values.</summary>
    private (float[]? Weights, QuantizedMatrix? Codes) LinearWeights(WeightKind kind, int layer)
    {
        if (_keep && _source.ReadQuantized(kind, layer) is { } codes)
        {
            return (null, codes);
        }

        var weights = _source.Read(kind, layer);
        CheckLength(weights, kind);
        return (weights, null);
    }

    private void LanguageModelHead(string hidden, string seqlens64, bool lastOnly)
    {
        var c = _config;
        var written = _tiedHead;
        _tiedHead = null;
        var headCodes = written is null && _keep ? _source.ReadQuantized(WeightKind.LanguageModelHead, 0) : null;
        if (written is null && headCodes is null && _embedding is null && _options.Precision is ModelPrecision.Int4 or ModelPrecision.Int8)
        {
            // An untied head (or a tied one whose table stayed float): quantized a slice of rows at a time where the source can.
            written = WriteLinearCodes(QuantizedRows(WeightKind.LanguageModelHead, _options.Precision == ModelPrecision.Int4 ? 4 : 8), HeadName);
        }

        float[]? head = written is not null || headCodes is not null ? null : _embedding ?? _source.Read(WeightKind.LanguageModelHead, 0);
        if (head is not null)
        {
            CheckLength(head, WeightKind.LanguageModelHead);
        }

        _embedding = null;
        if (!lastOnly)
        {
            Linear(HeadName, hidden, head, c.VocabularySize, c.HiddenSize, "logits", codes: headCodes, written: written);
            Step();
            return;
        }

        // Only each row's last real position goes through the head: index = seqlens_k - past_length, clamped to the chunk
        // (rows of a batch may be padded on the right). The output is [batch, 1, vocabulary] for prompts and single steps alike.
        string one = _graph.Int64Constant(false, 1);
        string zero = _graph.Int64Constant(false, 0);
        string inputShape = _graph.Node("Shape", "/lm_head/select/InputShape", ["input_ids"]);
        string sequence = _graph.Node("Gather", "/lm_head/select/SequenceLength", [inputShape, one], null, string.Empty, Int("axis", 0));
        string maskShape = _graph.Node("Shape", "/lm_head/select/MaskShape", ["attention_mask"]);
        string total = _graph.Node("Gather", "/lm_head/select/TotalLength", [maskShape, one], null, string.Empty, Int("axis", 0));
        string past = _graph.Node("Sub", "/lm_head/select/PastLength", [total, sequence]);
        string index = _graph.Node("Sub", "/lm_head/select/Index", [seqlens64, past]);
        string lastIndex = _graph.Node("Sub", "/lm_head/select/LastIndex", [sequence, one]);
        string clampedHigh = _graph.Node("Min", "/lm_head/select/Min", [index, lastIndex]);
        string clamped = _graph.Node("Max", "/lm_head/select/Max", [clampedHigh, zero]);
        string indexColumn = _graph.Node("Unsqueeze", "/lm_head/select/Unsqueeze", [clamped, one]);
        string selected = _graph.Node("GatherND", "/lm_head/select/GatherND", [hidden, indexColumn], null, string.Empty, Int("batch_dims", 1));
        string lastLogits = Linear(HeadName, selected, head, c.VocabularySize, c.HiddenSize, onePositionPerRow: true, codes: headCodes, written: written);
        Step();
        _graph.Node("Unsqueeze", "/lm_head/Unsqueeze", [lastLogits, one], ["logits"]);
    }

    /// <summary>Quantizes a [out, in] weight at the model's precision and writes its codes and scales as <see cref="WriteLinearCodes"/> does.</summary>
    private WrittenWeight QuantizeLinear(float[] weights, int outFeatures, int inFeatures, string name)
    {
        var (packed, scales, layout) = WeightQuantizer.Quantize(weights, outFeatures, inFeatures, _options.Precision == ModelPrecision.Int4 ? 4 : 8, _options.BlockSize);
        return WriteLinearCodes(new QuantizedMatrix(packed, scales, layout, Exact: true), name);
    }

    /// <summary>
    /// Writes a linear layer's codes and scales as its <c>MatMulNBits</c> reads them (<c>{name}.weight_Q{bits}</c> and
    /// <c>{name}.weight_scales</c>) before its node is added. A tied head's are written as soon as the embedding table is, so
    /// the table's codes are not held until the head's turn at the end of the graph.
    /// </summary>
    private WrittenWeight WriteLinearCodes(QuantizedMatrix codes, string name)
    {
        var weight = WriteCodes(codes, name);
        return new WrittenWeight(weight.Data, _graph.Initializer<float>(name + ".weight_scales", DataType.Float, [weight.Layout.ScaleCount], weight.Scales), weight.Layout);
    }

    /// <summary>Writes codes a source provides as <c>{name}.weight_Q{bits}</c>, [out, blocks, blob].</summary>
    private QuantizedWeight WriteCodes(QuantizedMatrix codes, string name)
    {
        var layout = codes.Layout;
        string data = _graph.Initializer(name + ".weight_Q" + layout.Bits, DataType.Uint8, [layout.N, layout.BlocksPerRow, layout.BlobSize], codes.Packed.AsSpan());
        return new QuantizedWeight(data, codes.Scales, layout);
    }

    /// <summary>Writes a [out, in] linear layer as MatMul (float) or MatMulNBits (int4/int8) and returns its output.</summary>
    /// <param name="name">The node name (…/MatMul).</param>
    /// <param name="input">The input.</param>
    /// <param name="weights">The weights, [out, in] row-major.</param>
    /// <param name="outFeatures">The output size.</param>
    /// <param name="inFeatures">The input size.</param>
    /// <param name="output">The output name, or <see langword="null"/> for the default.</param>
    /// <param name="onePositionPerRow">Whether the input has one position per sequence even in prompts (the last-position head): no prompt branch then.</param>
    /// <param name="codes">The weights as the source stores them in <c>MatMulNBits</c> form (then <paramref name="weights"/> is unused), or <see langword="null"/>.</param>
    /// <param name="written">The weights' codes and scales already written (<see cref="WriteLinearCodes"/>; then <paramref name="weights"/> and <paramref name="codes"/> are unused), or <see langword="null"/>.</param>
    private string Linear(string name, string input, float[]? weights, int outFeatures, int inFeatures, string? output = null, bool onePositionPerRow = false, QuantizedMatrix? codes = null, WrittenWeight? written = null)
    {
        string[] outputs = [output ?? name + "/output_0"];
        var precision = codes is not null || written is not null ? ModelPrecision.Int4 : _options.Precision;
        switch (precision)
        {
            case ModelPrecision.Int4:
            case ModelPrecision.Int8:
                {
                    var weight = written ?? (codes is not null ? WriteLinearCodes(codes, name) : QuantizeLinear(weights!, outFeatures, inFeatures, name));
                    int bits = weight.Layout.Bits;
                    int blockSize = weight.Layout.BlockSize;
                    string q = weight.Data;
                    string s = weight.Scales;
                    // Large 8-bit codes kept from a GGUF file (Q8_0 tables, Q6_K, Q5_0) at level 0 are dequantized to float32
                    // on every step (a Q8_0 151,936-token head: 545 MB per step, 1 token/s); level 4 prepacks them once.
                    bool largeKept = _keep && (long)outFeatures * inFeatures >= LargeProjectionThreshold;
                    int accuracy = _options.AccuracyLevel ?? (bits == 4 || largeKept ? 4 : 0);
                    int promptAccuracy = onePositionPerRow ? accuracy : PromptAccuracyLevel(accuracy, bits);
                    string nodeName = name.Replace("/MatMul", "/MatMulNBits", StringComparison.Ordinal);
                    NodeProto MatMulNBits(string matMulName, string output, int level)
                    {
                        var node = new NodeProto { OpType = "MatMulNBits", Name = matMulName, Domain = "com.microsoft" };
                        node.Input.AddRange([input, q, s]);
                        node.Output.Add(output);
                        node.Attribute.AddRange([Int("K", inFeatures), Int("N", outFeatures), Int("accuracy_level", level), Int("bits", bits), Int("block_size", blockSize)]);
                        return node;
                    }

                    if (promptAccuracy == accuracy)
                    {
                        _graph.Add(MatMulNBits(nodeName, outputs[0], accuracy));
                        return outputs[0];
                    }

                    // Steps of more than one token (prompts) take the then-branch, single-token steps the else-branch:
                    // the same weights through MatMulNBits at two accuracy levels.
                    GraphProto Branch(string branch, int level)
                    {
                        string branchOutput = $"{nodeName}/{branch}/output_0";
                        var graph = new GraphProto { Name = $"{nodeName}/{branch}" };
                        graph.Node.Add(MatMulNBits($"{nodeName}/{branch}", branchOutput, level));
                        graph.Output.Add(new ValueInfoProto { Name = branchOutput, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)_ioType } } });
                        return graph;
                    }

                    return _graph.Node("If", nodeName + "/If", [IsPromptStep()], outputs, string.Empty, Subgraph("then_branch", Branch("prompt", promptAccuracy)), Subgraph("else_branch", Branch("step", accuracy)));
                }

            default:
                {
                    var transposed = Transpose(weights!, outFeatures, inFeatures);
                    string w = name + ".weight";
                    WriteFloatTensor(w, [inFeatures, outFeatures], transposed);
                    return _graph.Node("MatMul", name, [input, w], outputs);
                }
        }
    }

    /// <summary>
    /// The same graph with each prompt/step <c>If</c> replaced by its single-token branch: one <c>MatMulNBits</c> per
    /// projection at the decode accuracy level, for prompts too (ONNX Runtime prepacks each weight once instead of once per level).
    /// </summary>
    public static ModelProto WithoutPromptBranches(ModelProto model)
    {
        var result = model.Clone();
        var nodes = result.Graph.Node;
        for (int i = nodes.Count - 1; i >= 0; i--)
        {
            var node = nodes[i];
            if (node.Name.StartsWith(StepPrefix, StringComparison.Ordinal))
            {
                nodes.RemoveAt(i);
                continue;
            }

            if (node.OpType != "If" || !node.Name.EndsWith("/If", StringComparison.Ordinal))
            {
                continue;
            }

            var step = node.Attribute.Single(a => a.Name == "else_branch").G.Node.Single().Clone();
            step.Name = node.Name[..^"/If".Length];
            step.Output[0] = node.Output[0];
            nodes[i] = step;
        }

        return result;
    }

    /// <summary>Writes a float tensor at the graph's float precision (float16 models store float16).</summary>
    private void WriteFloatTensor(string name, long[] dims, float[] values)
    {
        if (_ioType == DataType.Float16)
        {
            var half = new Half[values.Length];
            System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(values, half);
            _graph.Initializer<Half>(name, DataType.Float16, dims, half);
        }
        else
        {
            _graph.Initializer<float>(name, DataType.Float, dims, values);
        }
    }

    private static float[] Transpose(float[] source, int rows, int columns)
    {
        var result = new float[source.LongLength];
        const int Tile = 32;
        Parallel.For(0, (rows + Tile - 1) / Tile, tileRow =>
        {
            int r0 = tileRow * Tile;
            int r1 = Math.Min(r0 + Tile, rows);
            for (int c0 = 0; c0 < columns; c0 += Tile)
            {
                int c1 = Math.Min(c0 + Tile, columns);
                for (int r = r0; r < r1; r++)
                {
                    long rowOffset = (long)r * columns;
                    for (int c = c0; c < c1; c++)
                    {
                        result[((long)c * rows) + r] = source[rowOffset + c];
                    }
                }
            }
        });
        return result;
    }

    /// <summary>Maps a padded head dimension to its source dimension, or -1 for padding.</summary>
    private int SourceDimension(int padded)
    {
        if (_paddedHeadSize == _headSize)
        {
            return padded;
        }

        if (_config.RotaryInterleaved)
        {
            return padded < _headSize ? padded : -1;
        }

        // Rotating halves pairs (i, i + size/2): keep each real half at the start of the padded half.
        int half = _headSize / 2, paddedHalf = _paddedHeadSize / 2;
        return padded < paddedHalf ? (padded < half ? padded : -1) : (padded - paddedHalf < half ? half + padded - paddedHalf : -1);
    }

    /// <summary>Copies per-head rows [heads × headSize, width] into [heads × paddedHeadSize, width], zeros in the padding.</summary>
    private void PadHeadRows(float[] source, int heads, int width, Span<float> destination)
    {
        destination.Clear();
        for (int h = 0; h < heads; h++)
        {
            for (int d = 0; d < _paddedHeadSize; d++)
            {
                int s = SourceDimension(d);
                if (s >= 0)
                {
                    source.AsSpan(((h * _headSize) + s) * width, width).CopyTo(destination.Slice(((h * _paddedHeadSize) + d) * width, width));
                }
            }
        }
    }

    /// <summary>Maps the o_proj columns [rows, heads × headSize] to [rows, heads × paddedHeadSize].</summary>
    private float[] PadColumns(float[] source, int rows)
    {
        CheckLength(source, WeightKind.AttentionOutput);
        if (_paddedHeadSize == _headSize)
        {
            return source;
        }

        int heads = _config.HeadCount;
        int width = heads * _headSize, paddedWidth = heads * _paddedHeadSize;
        var result = new float[(long)rows * paddedWidth];
        for (int r = 0; r < rows; r++)
        {
            for (int h = 0; h < heads; h++)
            {
                for (int d = 0; d < _paddedHeadSize; d++)
                {
                    int s = SourceDimension(d);
                    if (s >= 0)
                    {
                        result[((long)r * paddedWidth) + (h * _paddedHeadSize) + d] = source[((long)r * width) + (h * _headSize) + s];
                    }
                }
            }
        }

        return result;
    }

    /// <summary>Writes cos_cache and sin_cache [context, paddedHeadSize / 2]; padded pairs get angle 0.</summary>
    private void WriteRotaryCaches(int context, int paddedHeadSize, int headSize)
    {
        int width = paddedHeadSize / 2;
        var inverse = RotaryFrequencies.Inverse(_config);
        var cos = new float[(long)context * width];
        var sin = new float[(long)context * width];
        for (int p = 0; p < context; p++)
        {
            for (int i = 0; i < width; i++)
            {
                double angle = i < headSize / 2 ? p * inverse[i] : 0;
                cos[((long)p * width) + i] = (float)Math.Cos(angle);
                sin[((long)p * width) + i] = (float)Math.Sin(angle);
            }
        }

        WriteFloatTensor("cos_cache", [context, width], cos);
        WriteFloatTensor("sin_cache", [context, width], sin);
    }
}
