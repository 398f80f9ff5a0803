using System.Globalization;
using System.Text.Json;

namespace Infera.ModelBuilder;

/// <summary>
/// Reads a Hugging Face folder of a Llama-family model: <c>config.json</c>, one or several <c>*.safetensors</c> files (with
/// <c>model.safetensors.index.json</c> when sharded) and the tokenizer files, which are copied unchanged.
/// </summary>
internal sealed class HuggingFaceCheckpoint : WeightSource
{
    private static readonly string[] TokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "tokenizer.model", "chat_template.jinja", "chat_template.json"];

    private readonly string _directory;
    private readonly Dictionary<string, SafetensorsFile> _files;
    private readonly Dictionary<string, SafetensorsFile> _tensorFile;

    private HuggingFaceCheckpoint(string directory, TransformerConfig config, Dictionary<string, SafetensorsFile> files, Dictionary<string, SafetensorsFile> tensorFile)
    {
        _directory = directory;
        Config = config;
        _files = files;
        _tensorFile = tensorFile;
    }

    public override TransformerConfig Config { get; }

    public override string Name => _directory;

    public static HuggingFaceCheckpoint Open(string directory, int? contextLength)
    {
        if (!Directory.Exists(directory))
        {
            throw new ModelConversionException($"Input folder not found: {directory}.") { SourcePath = directory };
        }

        string configPath = Path.Combine(directory, "config.json");
        if (!File.Exists(configPath))
        {
            throw new ModelConversionException($"{directory}: config.json is missing; this is not a Hugging Face model folder.") { SourcePath = directory };
        }

        if (!File.Exists(Path.Combine(directory, "tokenizer.json")))
        {
            throw new ModelConversionException($"{directory}: tokenizer.json is missing; the converted model needs the model's tokenizer.") { SourcePath = directory };
        }

        var config = ReadConfig(directory, configPath, contextLength);
        var files = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        var tensorFile = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        try
        {
            string index = Path.Combine(directory, "model.safetensors.index.json");
            IEnumerable<string> shardNames;
            if (File.Exists(index))
            {
                using var json = JsonDocument.Parse(File.ReadAllBytes(index));
                shardNames = json.RootElement.GetProperty("weight_map").EnumerateObject().Select(p => p.Value.GetString()!).Distinct().ToList();
            }
            else
            {
                shardNames = Directory.EnumerateFiles(directory, "*.safetensors").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList()!;
            }

            foreach (string shard in shardNames)
            {
                var file = SafetensorsFile.Open(Path.Combine(directory, shard));
                files[shard] = file;
                foreach (var name in file.Entries.Keys)
                {
                    tensorFile[name] = file;
                }
            }

            if (files.Count == 0)
            {
                throw new ModelConversionException($"{directory}: no *.safetensors weights found.") { SourcePath = directory };
            }

            var checkpoint = new HuggingFaceCheckpoint(directory, config, files, tensorFile);
            checkpoint.ValidateShapes();
            return checkpoint;
        }
        catch (Exception e)
        {
            foreach (var file in files.Values)
            {
                file.Dispose();
            }

            if (e is JsonException or KeyNotFoundException)
            {
                throw new ModelConversionException($"{directory}: model.safetensors.index.json is not valid: {e.Message}", e) { SourcePath = directory };
            }

            throw;
        }
    }

    private static TransformerConfig ReadConfig(string directory, string path, int? contextLength)
    {
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = json.RootElement;
            string modelType = root.TryGetProperty("model_type", out var mt) ? mt.GetString() ?? string.Empty : string.Empty;
            string architecture = root.TryGetProperty("architectures", out var archs) && archs.ValueKind == JsonValueKind.Array && archs.GetArrayLength() > 0 ? archs[0].GetString() ?? string.Empty : string.Empty;
            var arch = (modelType, architecture) switch
            {
                ("llama", _) or (_, "LlamaForCausalLM") => ModelArchitecture.Llama,
                ("mistral", _) or (_, "MistralForCausalLM") => ModelArchitecture.Mistral,
                ("qwen2", _) or (_, "Qwen2ForCausalLM") => ModelArchitecture.Qwen2,
                ("phi3", _) or (_, "Phi3ForCausalLM") => ModelArchitecture.Phi3,
                _ => throw new ModelConversionException($"{directory}: unsupported architecture '{(modelType.Length > 0 ? modelType : architecture)}'; supported are llama, mistral, qwen2 and phi3.") { SourcePath = directory },
            };

            string activation = String(root, "hidden_act") ?? String(root, "hidden_activation") ?? "silu";
            if (activation != "silu")
            {
                throw new ModelConversionException($"{directory}: unsupported activation '{activation}'; supported is silu.") { SourcePath = directory };
            }

            int hidden = Int(root, "hidden_size") ?? throw Missing(directory, "hidden_size");
            int heads = Int(root, "num_attention_heads") ?? throw Missing(directory, "num_attention_heads");
            RopeScaling? scaling = null;
            if (root.TryGetProperty("rope_scaling", out var rs) && rs.ValueKind == JsonValueKind.Object)
            {
                string type = String(rs, "rope_type") ?? String(rs, "type") ?? string.Empty;
                if (type == "llama3")
                {
                    scaling = new RopeScaling(Double(rs, "factor") ?? 8, Double(rs, "low_freq_factor") ?? 1, Double(rs, "high_freq_factor") ?? 4, Int(rs, "original_max_position_embeddings") ?? 8192);
                }
                else if (type != "default")
                {
                    throw new ModelConversionException($"{directory}: unsupported rope_scaling type '{type}'.") { SourcePath = directory };
                }
            }

            if (arch == ModelArchitecture.Phi3 && (Double(root, "partial_rotary_factor") ?? 1.0) != 1.0)
            {
                throw new ModelConversionException($"{directory}: partial rotary embedding is not supported.") { SourcePath = directory };
            }

            int layers = Int(root, "num_hidden_layers") ?? throw Missing(directory, "num_hidden_layers");
            var (slidingWindow, slidingLayers) = SlidingWindow(directory, root, arch, layers);

            var eos = Ids(root, "eos_token_id");
            string generation = Path.Combine(directory, "generation_config.json");
            if (File.Exists(generation))
            {
                using var gen = JsonDocument.Parse(File.ReadAllBytes(generation));
                var genEos = Ids(gen.RootElement, "eos_token_id");
                if (genEos.Count > 0)
                {
                    eos = genEos;
                }
            }

            int bos = Int(root, "bos_token_id") ?? 1;
            if (eos.Count == 0)
            {
                eos = [2];
            }

            var config = new TransformerConfig
            {
                Architecture = arch,
                HiddenSize = hidden,
                IntermediateSize = Int(root, "intermediate_size") ?? throw Missing(directory, "intermediate_size"),
                LayerCount = layers,
                HeadCount = heads,
                KeyValueHeadCount = Int(root, "num_key_value_heads") ?? heads,
                HeadSize = Int(root, "head_dim") ?? 0,
                VocabularySize = Int(root, "vocab_size") ?? throw Missing(directory, "vocab_size"),
                ContextLength = contextLength ?? Int(root, "max_position_embeddings") ?? 2048,
                RopeTheta = Double(root, "rope_theta") ?? 10000.0,
                RopeScaling = scaling,
                RmsNormEpsilon = (float)(Double(root, "rms_norm_eps") ?? 1e-6),
                TiedEmbeddings = Bool(root, "tie_word_embeddings") ?? false,
                RotaryInterleaved = false,
                AttentionBias = arch == ModelArchitecture.Qwen2 || (Bool(root, "attention_bias") ?? false),
                SlidingWindow = slidingWindow,
                SlidingLayers = slidingLayers,
                BosTokenId = bos,
                EosTokenIds = eos,
                PadTokenId = Int(root, "pad_token_id") ?? eos[0],
            };
            config.Validate(directory);
            return config;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new ModelConversionException($"{directory}: config.json is not valid: {e.Message}", e) { SourcePath = directory };
        }
    }

    /// <summary>
    /// The sliding attention window and the layers it applies to, as Hugging Face transformers reads them: Mistral and
    /// Phi-3 mask every layer with <c>sliding_window</c> whenever the config sets it; Qwen2 only with
    /// <c>use_sliding_window: true</c>, and then the layers that <c>layer_types</c> marks <c>sliding_attention</c>, or
    /// without <c>layer_types</c> the layers from <c>max_window_layers</c> (default 28) on.
    /// </summary>
    private static (int? Window, bool[]? Layers) SlidingWindow(string directory, JsonElement root, ModelArchitecture arch, int layerCount)
    {
        switch (arch)
        {
            case ModelArchitecture.Mistral or ModelArchitecture.Phi3:
                return (Int(root, "sliding_window"), null);
            case ModelArchitecture.Qwen2 when Bool(root, "use_sliding_window") == true && Int(root, "sliding_window") is int window:
                bool[] sliding;
                if (root.TryGetProperty("layer_types", out var types) && types.ValueKind == JsonValueKind.Array)
                {
                    sliding = [.. types.EnumerateArray().Select(t => t.GetString() switch
                    {
                        "sliding_attention" => true,
                        "full_attention" => false,
                        var other => throw new ModelConversionException($"{directory}: unsupported layer type '{other}' in layer_types; supported are full_attention and sliding_attention.") { SourcePath = directory },
                    })];
                }
                else
                {
                    int full = Int(root, "max_window_layers") ?? 28;
                    sliding = [.. Enumerable.Range(0, layerCount).Select(l => l >= full)];
                }

                return sliding.Any(s => s) ? (window, sliding) : (null, null);
            default:
                return (null, null);
        }
    }

    private static ModelConversionException Missing(string directory, string key) => new($"{directory}: config.json lacks '{key}'.") { SourcePath = directory };

    private static string? String(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static int? Int(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;

    private static double? Double(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static bool? Bool(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    private static List<int> Ids(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v))
        {
            return [];
        }

        return v.ValueKind switch
        {
            JsonValueKind.Number => [v.GetInt32()],
            JsonValueKind.Array => v.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.Number).Select(x => x.GetInt32()).ToList(),
            _ => [],
        };
    }

    /// <summary>Checks that every tensor the architecture needs exists with the shape the configuration implies.</summary>
    private void ValidateShapes()
    {
        var c = Config;
        long hd = c.EffectiveHeadSize;
        Expect("model.embed_tokens.weight", c.VocabularySize, c.HiddenSize);
        Expect("model.norm.weight", c.HiddenSize);
        if (!c.TiedEmbeddings)
        {
            if (_tensorFile.ContainsKey("lm_head.weight"))
            {
                Expect("lm_head.weight", c.VocabularySize, c.HiddenSize);
            }
        }

        for (int l = 0; l < c.LayerCount; l++)
        {
            string p = $"model.layers.{l}.";
            Expect(p + "input_layernorm.weight", c.HiddenSize);
            Expect(p + "post_attention_layernorm.weight", c.HiddenSize);
            Expect(p + "self_attn.o_proj.weight", c.HiddenSize, c.HeadCount * hd);
            Expect(p + "mlp.down_proj.weight", c.HiddenSize, c.IntermediateSize);
            if (c.Architecture == ModelArchitecture.Phi3)
            {
                Expect(p + "self_attn.qkv_proj.weight", (c.HeadCount + (2 * c.KeyValueHeadCount)) * hd, c.HiddenSize);
                Expect(p + "mlp.gate_up_proj.weight", 2L * c.IntermediateSize, c.HiddenSize);
                continue;
            }

            Expect(p + "self_attn.q_proj.weight", c.HeadCount * hd, c.HiddenSize);
            Expect(p + "self_attn.k_proj.weight", c.KeyValueHeadCount * hd, c.HiddenSize);
            Expect(p + "self_attn.v_proj.weight", c.KeyValueHeadCount * hd, c.HiddenSize);
            if (c.AttentionBias)
            {
                Expect(p + "self_attn.q_proj.bias", c.HeadCount * hd);
                Expect(p + "self_attn.k_proj.bias", c.KeyValueHeadCount * hd);
                Expect(p + "self_attn.v_proj.bias", c.KeyValueHeadCount * hd);
            }

            Expect(p + "mlp.gate_proj.weight", c.IntermediateSize, c.HiddenSize);
            Expect(p + "mlp.up_proj.weight", c.IntermediateSize, c.HiddenSize);
        }

        void Expect(string name, params long[] shape)
        {
            if (!_tensorFile.TryGetValue(name, out var file))
            {
                throw new ModelConversionException($"{_directory}: tensor {name} is missing.") { SourcePath = _directory };
            }

            var actual = file.Entries[name].Shape;
            if (!actual.SequenceEqual(shape))
            {
                throw new ModelConversionException($"{_directory}: tensor {name} has shape [{string.Join(", ", actual)}], but config.json implies [{string.Join(", ", shape)}].") { SourcePath = _directory };
            }
        }
    }

    public override float[] Read(WeightKind kind, int layer)
    {
        var c = Config;
        string p = string.Create(CultureInfo.InvariantCulture, $"model.layers.{layer}.");
        long hd = c.EffectiveHeadSize;
        if (c.Architecture == ModelArchitecture.Phi3)
        {
            switch (kind)
            {
                case WeightKind.Query:
                    return Slice(p + "self_attn.qkv_proj.weight", 0, c.HeadCount * hd * c.HiddenSize);
                case WeightKind.Key:
                    return Slice(p + "self_attn.qkv_proj.weight", c.HeadCount * hd * c.HiddenSize, c.KeyValueHeadCount * hd * c.HiddenSize);
                case WeightKind.Value:
                    return Slice(p + "self_attn.qkv_proj.weight", (c.HeadCount + c.KeyValueHeadCount) * hd * c.HiddenSize, c.KeyValueHeadCount * hd * c.HiddenSize);
                case WeightKind.Gate:
                    return Slice(p + "mlp.gate_up_proj.weight", 0, (long)c.IntermediateSize * c.HiddenSize);
                case WeightKind.Up:
                    return Slice(p + "mlp.gate_up_proj.weight", (long)c.IntermediateSize * c.HiddenSize, (long)c.IntermediateSize * c.HiddenSize);
            }
        }

        string name = kind switch
        {
            WeightKind.Embedding => "model.embed_tokens.weight",
            WeightKind.FinalNorm => "model.norm.weight",
            WeightKind.LanguageModelHead => HeadTensor,
            WeightKind.AttentionNorm => p + "input_layernorm.weight",
            WeightKind.FeedForwardNorm => p + "post_attention_layernorm.weight",
            WeightKind.Query => p + "self_attn.q_proj.weight",
            WeightKind.Key => p + "self_attn.k_proj.weight",
            WeightKind.Value => p + "self_attn.v_proj.weight",
            WeightKind.QueryBias => p + "self_attn.q_proj.bias",
            WeightKind.KeyBias => p + "self_attn.k_proj.bias",
            WeightKind.ValueBias => p + "self_attn.v_proj.bias",
            WeightKind.AttentionOutput => p + "self_attn.o_proj.weight",
            WeightKind.Gate => p + "mlp.gate_proj.weight",
            WeightKind.Up => p + "mlp.up_proj.weight",
            WeightKind.Down => p + "mlp.down_proj.weight",
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        return ReadTensor(name);
    }

    /// <summary>Gets the tensor the language-model head reads: <c>lm_head.weight</c>, or the embedding table when tied or absent.</summary>
    private string HeadTensor => Config.TiedEmbeddings || !_tensorFile.ContainsKey("lm_head.weight") ? "model.embed_tokens.weight" : "lm_head.weight";

    public override bool TryReadRows(WeightKind kind, int firstRow, int rowCount, Memory<float> destination)
    {
        CheckRows(kind, firstRow, rowCount, destination);
        string name = kind == WeightKind.LanguageModelHead ? HeadTensor : "model.embed_tokens.weight";
        int width = Config.HiddenSize;
        if (!_tensorFile.TryGetValue(name, out var file) || file.Entries[name].Shape is not [_, var columns] || columns != width)
        {
            return false;
        }

        file.ReadRange(file.Entries[name], (long)firstRow * width, destination.Span);
        return true;
    }

    private float[] ReadTensor(string name)
    {
        if (!_tensorFile.TryGetValue(name, out var file))
        {
            throw new ModelConversionException($"{_directory}: tensor {name} is missing.") { SourcePath = _directory };
        }

        return file.Read(file.Entries[name]);
    }

    /// <summary>Reads elements <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> of a fused tensor (Phi-3's qkv and gate/up), without reading the rest.</summary>
    private float[] Slice(string name, long start, long count)
    {
        if (!_tensorFile.TryGetValue(name, out var file))
        {
            throw new ModelConversionException($"{_directory}: tensor {name} is missing.") { SourcePath = _directory };
        }

        var result = new float[count];
        file.ReadRange(file.Entries[name], start, result);
        return result;
    }

    /// <summary>Copies the tokenizer files into the output folder.</summary>
    public void CopyTokenizer(string destination)
    {
        foreach (string file in TokenizerFiles)
        {
            string source = Path.Combine(_directory, file);
            if (File.Exists(source))
            {
                File.Copy(source, Path.Combine(destination, file));
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var file in _files.Values)
            {
                file.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}
