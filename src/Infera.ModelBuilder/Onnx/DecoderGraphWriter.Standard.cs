using static Infera.ModelBuilder.OnnxGraphBuilder;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Infera.ModelBuilder;

/// <summary>The standard-operator graph: only ai.onnx opset 21 operators, separate past and present tensors, explicit position ids.</summary>
internal sealed partial class DecoderGraphWriter
{
    private readonly Dictionary<float, string> _floatConstants = [];

    private GraphInfo BuildStandard()
    {
        var c = _config;
        int hd = _headSize, heads = c.HeadCount, kvHeads = c.KeyValueHeadCount;
        _graph.AddInput("input_ids", DataType.Int64, "batch_size", "sequence_length");
        _graph.AddInput("attention_mask", DataType.Int64, "batch_size", "total_sequence_length");
        _graph.AddInput("position_ids", DataType.Int64, "batch_size", "sequence_length");
        for (int l = 0; l < c.LayerCount; l++)
        {
            _graph.AddInput($"past_key_values.{l}.key", _ioType, "batch_size", kvHeads, "past_sequence_length", hd);
            _graph.AddInput($"past_key_values.{l}.value", _ioType, "batch_size", kvHeads, "past_sequence_length", hd);
        }

        _graph.AddOutput("logits", _ioType, "batch_size", "sequence_length", c.VocabularySize);
        for (int l = 0; l < c.LayerCount; l++)
        {
            _graph.AddOutput($"present.{l}.key", _ioType, "batch_size", kvHeads, "total_sequence_length", hd);
            _graph.AddOutput($"present.{l}.value", _ioType, "batch_size", kvHeads, "total_sequence_length", hd);
        }

        WriteRotaryCaches(c.ContextLength, hd, hd);
        // One additive mask for the layers that see the whole context and one for the windowed layers, each built once.
        string? fullMask = null, windowMask = null;
        string cos = _graph.Node("Unsqueeze", "/model/rotary/cos/Unsqueeze", [_graph.Node("Gather", "/model/rotary/cos/Gather", ["cos_cache", "position_ids"]), _graph.Int64Constant(false, 1)]);
        string sin = _graph.Node("Unsqueeze", "/model/rotary/sin/Unsqueeze", [_graph.Node("Gather", "/model/rotary/sin/Gather", ["sin_cache", "position_ids"]), _graph.Int64Constant(false, 1)]);

        string x = Embedding();
        for (int l = 0; l < c.LayerCount; l++)
        {
            string prefix = $"/model/layers.{l}";
            string normed = RmsNorm($"{prefix}/input_layernorm", x, Norm($"model.layers.{l}.input_layernorm.weight", WeightKind.AttentionNorm, l));
            string q = Projection(l, $"{prefix}/attn/q_proj", normed, WeightKind.Query, WeightKind.QueryBias, heads);
            string k = Projection(l, $"{prefix}/attn/k_proj", normed, WeightKind.Key, WeightKind.KeyBias, kvHeads);
            string v = Projection(l, $"{prefix}/attn/v_proj", normed, WeightKind.Value, WeightKind.ValueBias, kvHeads);
            Step();
            q = Rotary($"{prefix}/attn/q_rotary", q, cos, sin);
            k = Rotary($"{prefix}/attn/k_rotary", k, cos, sin);
            string presentKey = _graph.Node("Concat", $"{prefix}/attn/k_concat", [$"past_key_values.{l}.key", k], [$"present.{l}.key"], string.Empty, Int("axis", 2));
            string presentValue = _graph.Node("Concat", $"{prefix}/attn/v_concat", [$"past_key_values.{l}.value", v], [$"present.{l}.value"], string.Empty, Int("axis", 2));
            string keys = RepeatHeads($"{prefix}/attn/k_repeat", presentKey);
            string values = RepeatHeads($"{prefix}/attn/v_repeat", presentValue);
            string keysT = _graph.Node("Transpose", $"{prefix}/attn/k_transpose", [keys], null, string.Empty, Ints("perm", 0, 1, 3, 2));
            string scores = _graph.Node("MatMul", $"{prefix}/attn/qk", [q, keysT]);
            scores = _graph.Node("Mul", $"{prefix}/attn/scale", [scores, FloatConstant(1f / MathF.Sqrt(hd))]);
            string mask = c.WindowOf(l) is int window ? windowMask ??= AttentionMask(window) : fullMask ??= AttentionMask(null);
            scores = _graph.Node("Add", $"{prefix}/attn/mask", [scores, mask]);
            string probabilities = _graph.Node("Softmax", $"{prefix}/attn/softmax", [scores], null, string.Empty, Int("axis", -1));
            string context = _graph.Node("MatMul", $"{prefix}/attn/pv", [probabilities, values]);
            context = _graph.Node("Transpose", $"{prefix}/attn/context_transpose", [context], null, string.Empty, Ints("perm", 0, 2, 1, 3));
            context = _graph.Node("Reshape", $"{prefix}/attn/context_reshape", [context, _graph.Int64Constant(false, 0, 0, heads * hd)]);
            string attnOut = Linear($"{prefix}/attn/o_proj/MatMul", context, _source.Read(WeightKind.AttentionOutput, l), c.HiddenSize, heads * hd);
            Step();
            x = _graph.Node("Add", $"{prefix}/attn/residual", [x, attnOut]);
            normed = RmsNorm($"{prefix}/post_attention_layernorm", x, Norm($"model.layers.{l}.post_attention_layernorm.weight", WeightKind.FeedForwardNorm, l));
            string down = FeedForward(prefix, normed);
            x = _graph.Node("Add", $"{prefix}/mlp/residual", [x, down]);
        }

        string final = RmsNorm("/model/norm", x, Norm("model.norm.weight", WeightKind.FinalNorm, 0));
        float[] head = _embedding ?? _source.Read(WeightKind.LanguageModelHead, 0);
        CheckLength(head, WeightKind.LanguageModelHead);
        _embedding = null;
        Linear("/lm_head/MatMul", final, head, c.VocabularySize, c.HiddenSize, "logits");
        _progress?.Report(1.0);
        return new GraphInfo(hd, SharedKeyValueBuffer: false, HasPositionIds: true, _ioType == DataType.Float16, LastPositionLogitsOnly: false);
    }

    private string FloatConstant(float value)
    {
        if (!_floatConstants.TryGetValue(value, out string? name))
        {
            name = $"/model/constants/{(_ioType == DataType.Float16 ? "FLOAT16" : "FLOAT")}/{value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}";
            WriteFloatTensor(name, [], [value]);
            _floatConstants[value] = name;
        }

        return name;
    }

    private string RmsNorm(string name, string input, string weight)
    {
        string square = _graph.Node("Mul", $"{name}/Square", [input, input]);
        string mean = _graph.Node("ReduceMean", $"{name}/ReduceMean", [square, _graph.Int64Constant(false, -1)], null, string.Empty, Int("keepdims", 1));
        string shifted = _graph.Node("Add", $"{name}/AddEpsilon", [mean, FloatConstant(_config.RmsNormEpsilon)]);
        string root = _graph.Node("Sqrt", $"{name}/Sqrt", [shifted]);
        string scaled = _graph.Node("Div", $"{name}/Div", [input, root]);
        return _graph.Node("Mul", $"{name}/MulWeight", [scaled, weight]);
    }

    /// <summary>Projects to [batch, heads, sequence, head size].</summary>
    private string Projection(int layer, string name, string input, WeightKind kind, WeightKind biasKind, int heads)
    {
        var weights = _source.Read(kind, layer);
        CheckLength(weights, kind);
        string output = Linear(name + "/MatMul", input, weights, heads * _headSize, _config.HiddenSize);
        if (_config.AttentionBias)
        {
            var bias = _source.Read(biasKind, layer);
            CheckLength(bias, biasKind);
            string biasName = $"model.layers.{layer}.{name[(name.LastIndexOf('/') + 1)..]}.bias";
            WriteFloatTensor(biasName, [bias.Length], bias);
            output = _graph.Node("Add", name + "/Add", [output, biasName]);
        }

        string reshaped = _graph.Node("Reshape", name + "/Reshape", [output, _graph.Int64Constant(false, 0, 0, heads, _headSize)]);
        return _graph.Node("Transpose", name + "/Transpose", [reshaped], null, string.Empty, Ints("perm", 0, 2, 1, 3));
    }

    /// <summary>Rotates [batch, heads, sequence, head size] by position: adjacent pairs (llama2.c) or halves (Hugging Face).</summary>
    private string Rotary(string name, string x, string cos, string sin)
    {
        int half = _headSize / 2;
        string axis = _graph.Int64Constant(false, -1);
        string first, second;
        if (_config.RotaryInterleaved)
        {
            first = _graph.Node("Slice", name + "/Even", [x, _graph.Int64Constant(false, 0), _graph.Int64Constant(false, _headSize), axis, _graph.Int64Constant(false, 2)]);
            second = _graph.Node("Slice", name + "/Odd", [x, _graph.Int64Constant(false, 1), _graph.Int64Constant(false, _headSize), axis, _graph.Int64Constant(false, 2)]);
        }
        else
        {
            first = _graph.Node("Slice", name + "/First", [x, _graph.Int64Constant(false, 0), _graph.Int64Constant(false, half), axis]);
            second = _graph.Node("Slice", name + "/Second", [x, _graph.Int64Constant(false, half), _graph.Int64Constant(false, _headSize), axis]);
        }

        string a = _graph.Node("Sub", name + "/RotatedFirst", [_graph.Node("Mul", name + "/FirstCos", [first, cos]), _graph.Node("Mul", name + "/SecondSin", [second, sin])]);
        string b = _graph.Node("Add", name + "/RotatedSecond", [_graph.Node("Mul", name + "/FirstSin", [first, sin]), _graph.Node("Mul", name + "/SecondCos", [second, cos])]);
        if (!_config.RotaryInterleaved)
        {
            return _graph.Node("Concat", name + "/Concat", [a, b], null, string.Empty, Int("axis", -1));
        }

        string pairs = _graph.Node("Concat", name + "/Pairs", [_graph.Node("Unsqueeze", name + "/UnsqueezeFirst", [a, axis]), _graph.Node("Unsqueeze", name + "/UnsqueezeSecond", [b, axis])], null, string.Empty, Int("axis", -1));
        return _graph.Node("Reshape", name + "/Interleave", [pairs, _graph.Int64Constant(false, 0, 0, 0, _headSize)]);
    }

    /// <summary>Repeats [batch, kv heads, total, head size] to [batch, heads, total, head size] for grouped-query attention.</summary>
    private string RepeatHeads(string name, string kv)
    {
        int group = _config.HeadCount / _config.KeyValueHeadCount;
        if (group == 1)
        {
            return kv;
        }

        string unsqueezed = _graph.Node("Unsqueeze", name + "/Unsqueeze", [kv, _graph.Int64Constant(false, 2)]);
        string expanded = _graph.Node("Expand", name + "/Expand", [unsqueezed, _graph.Int64Constant(false, 1, 1, group, 1, 1)]);
        return _graph.Node("Reshape", name + "/Reshape", [expanded, _graph.Int64Constant(false, 0, _config.HeadCount, -1, _headSize)]);
    }

    /// <summary>The additive mask [batch, 1, sequence, total]: causal over absolute positions, padding from attention_mask, and the sliding window if given.</summary>
    private string AttentionMask(int? window)
    {
        string scope = window is null ? "/model/attn_mask" : "/model/attn_mask_window";
        string zero = _graph.Int64Constant(true, 0), one = _graph.Int64Constant(true, 1);
        string ids = _graph.Node("Shape", $"{scope}/InputShape", ["input_ids"]);
        string sequence = _graph.Node("Gather", $"{scope}/Sequence", [ids, one], null, string.Empty, Int("axis", 0));
        string maskShape = _graph.Node("Shape", $"{scope}/MaskShape", ["attention_mask"]);
        string total = _graph.Node("Gather", $"{scope}/Total", [maskShape, one], null, string.Empty, Int("axis", 0));
        string past = _graph.Node("Sub", $"{scope}/Past", [total, sequence]);
        string keyIndex = _graph.Node("Range", $"{scope}/KeyIndex", [zero, total, one]);
        string queryIndex = _graph.Node("Unsqueeze", $"{scope}/QueryIndex", [_graph.Node("Range", $"{scope}/QueryRange", [past, total, one]), _graph.Int64Constant(false, 1)]);
        string allowed = _graph.Node("LessOrEqual", $"{scope}/Causal", [keyIndex, queryIndex]);
        if (window is int w)
        {
            string start = _graph.Node("Sub", $"{scope}/WindowStart", [queryIndex, _graph.Int64Constant(true, w)]);
            allowed = _graph.Node("And", $"{scope}/Window", [allowed, _graph.Node("Greater", $"{scope}/InWindow", [keyIndex, start])]);
        }

        string padding = _graph.Node("Cast", $"{scope}/Padding", [_graph.Node("Unsqueeze", $"{scope}/PaddingUnsqueeze", ["attention_mask", _graph.Int64Constant(false, 1, 2)])], null, string.Empty, Int("to", (long)DataType.Bool));
        allowed = _graph.Node("And", $"{scope}/Allowed", [allowed, padding]);
        float blocked = _ioType == DataType.Float16 ? -65504f : float.MinValue;
        return _graph.Node("Where", $"{scope}/Additive", [allowed, FloatConstant(0f), FloatConstant(blocked)]);
    }
}
