using System.Globalization;

namespace Infera.ModelBuilder;

/// <summary>
/// Reads a GGUF file of a Llama-family model (architectures <c>llama</c>, <c>mistral</c>, <c>qwen2</c>, <c>phi3</c>) as a
/// <see cref="WeightSource"/>: the geometry from the metadata, every tensor the model needs checked when it opens (present,
/// right shape, a supported type), tensors dequantized to float32 or handed over as <c>MatMulNBits</c> codes.
/// </summary>
/// <remarks>
/// llama.cpp's converter permutes the query and key rows of <c>llama</c>-architecture models so that its rotary embedding
/// rotates adjacent pairs (its "normal" rope mode). Rotating adjacent pairs in the file's row order is the same
/// computation as undoing the permutation and rotating halves, so the importer keeps the rows as they are (quantized rows
/// need no rewriting) and writes <c>rotary_interleaved = 1</c>, exactly what llama.cpp computes. <c>qwen2</c> and
/// <c>phi3</c> are not permuted and rotate halves (llama.cpp's "neox" mode), as Hugging Face does.
/// </remarks>
internal sealed class GgufCheckpoint : WeightSource
{
    private readonly GgufFile _file;

    private GgufCheckpoint(GgufFile file, TransformerConfig config, bool fusedQkv)
    {
        _file = file;
        Config = config;
        FusedQkv = fusedQkv;
    }

    public override TransformerConfig Config { get; }

    public override string Name => _file.Path;

    public GgufFile File => _file;

    private bool FusedQkv { get; }

    public static GgufCheckpoint Open(string path, int? contextLength)
    {
        var file = GgufFile.Open(path);
        try
        {
            var (config, fused) = ReadConfig(file, contextLength);
            var checkpoint = new GgufCheckpoint(file, config, fused);
            checkpoint.ValidateTensors();
            return checkpoint;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static (TransformerConfig Config, bool FusedQkv) ReadConfig(GgufFile file, int? contextLength)
    {
        string path = file.Path;
        string arch = file.GetString("general.architecture") ?? throw GgufFile.Error(path, "general.architecture is missing");
        var architecture = arch switch
        {
            "llama" => ModelArchitecture.Llama,
            "mistral" => ModelArchitecture.Mistral,
            "qwen2" => ModelArchitecture.Qwen2,
            "phi3" => ModelArchitecture.Phi3,
            _ => throw GgufFile.Error(path, $"unsupported architecture '{arch}'; supported are llama, mistral, qwen2 and phi3"),
        };

        int Required(string key) => (int)(file.GetInteger($"{arch}.{key}") ?? throw GgufFile.Error(path, $"metadata {arch}.{key} is missing"));
        int? Optional(string key) => file.GetInteger($"{arch}.{key}") is long v ? (int)v : null;

        if (file.Tensors.ContainsKey("rope_freqs.weight") || file.Tensors.ContainsKey("rope_factors_long.weight"))
        {
            throw GgufFile.Error(path, "rope frequency factors (rope_freqs / rope_factors_long, as in Llama 3.1 or long-context Phi-3) are not supported yet");
        }

        string? scaling = file.GetString($"{arch}.rope.scaling.type");
        if (scaling is not null and not "none")
        {
            throw GgufFile.Error(path, $"rope scaling '{scaling}' is not supported");
        }

        int hidden = Required("embedding_length");
        int heads = Required("attention.head_count");
        int headSize = Optional("attention.key_length") ?? (heads > 0 ? hidden / heads : 0);
        int rotary = Optional("rope.dimension_count") ?? headSize;
        if (rotary != headSize)
        {
            throw GgufFile.Error(path, $"partial rotary embedding ({rotary} of {headSize} dimensions) is not supported");
        }

        var tokens = file.Get("tokenizer.ggml.tokens") as string[] ?? throw GgufFile.Error(path, "tokenizer.ggml.tokens is missing; the model needs its vocabulary");
        int vocabulary = file.Tensors.TryGetValue("token_embd.weight", out var embedding) && embedding.Dimensions.Length == 2 ? (int)embedding.Dimensions[1] : tokens.Length;
        int bos = (int)(file.GetInteger("tokenizer.ggml.bos_token_id") ?? 1);
        var eos = new List<int>();
        foreach (string key in new[] { "tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id" })
        {
            if (file.GetInteger(key) is long id && !eos.Contains((int)id))
            {
                eos.Add((int)id);
            }
        }

        if (eos.Count == 0)
        {
            eos.Add(2);
        }

        bool fused = architecture == ModelArchitecture.Phi3 && file.Tensors.ContainsKey("blk.0.attn_qkv.weight");
        var config = new TransformerConfig
        {
            Architecture = architecture,
            HiddenSize = hidden,
            IntermediateSize = Required("feed_forward_length"),
            LayerCount = Required("block_count"),
            HeadCount = heads,
            KeyValueHeadCount = Optional("attention.head_count_kv") ?? heads,
            HeadSize = headSize == hidden / Math.Max(1, heads) ? 0 : headSize,
            VocabularySize = vocabulary,
            ContextLength = contextLength ?? Optional("context_length") ?? 2048,
            RopeTheta = file.GetNumber($"{arch}.rope.freq_base") ?? 10000.0,
            RmsNormEpsilon = (float)(file.GetNumber($"{arch}.attention.layer_norm_rms_epsilon") ?? 1e-5),
            TiedEmbeddings = !file.Tensors.ContainsKey("output.weight"),
            RotaryInterleaved = architecture is ModelArchitecture.Llama or ModelArchitecture.Mistral,
            AttentionBias = file.Tensors.ContainsKey("blk.0.attn_q.bias"),
            BosTokenId = bos,
            EosTokenIds = eos,
            PadTokenId = (int)(file.GetInteger("tokenizer.ggml.padding_token_id") ?? eos[0]),
        };
        config.Validate(path);
        return (config, fused);
    }

    private static string Layer(int layer, string name) => string.Create(CultureInfo.InvariantCulture, $"blk.{layer}.{name}");

    /// <summary>Returns the tensor name and, for fused tensors, the row range of <paramref name="kind"/>.</summary>
    private (string Name, long FirstRow, long Rows) Locate(WeightKind kind, int layer)
    {
        var c = Config;
        long hd = c.EffectiveHeadSize;
        if (FusedQkv && kind is WeightKind.Query or WeightKind.Key or WeightKind.Value)
        {
            long q = c.HeadCount * hd, kv = c.KeyValueHeadCount * hd;
            return kind switch
            {
                WeightKind.Query => (Layer(layer, "attn_qkv.weight"), 0, q),
                WeightKind.Key => (Layer(layer, "attn_qkv.weight"), q, kv),
                _ => (Layer(layer, "attn_qkv.weight"), q + kv, kv),
            };
        }

        if (c.Architecture == ModelArchitecture.Phi3 && kind is WeightKind.Gate or WeightKind.Up)
        {
            // Phi-3's ffn_up holds the gate rows, then the up rows.
            return (Layer(layer, "ffn_up.weight"), kind == WeightKind.Gate ? 0 : c.IntermediateSize, c.IntermediateSize);
        }

        string name = kind switch
        {
            WeightKind.Embedding => "token_embd.weight",
            WeightKind.FinalNorm => "output_norm.weight",
            WeightKind.LanguageModelHead => c.TiedEmbeddings ? "token_embd.weight" : "output.weight",
            WeightKind.AttentionNorm => Layer(layer, "attn_norm.weight"),
            WeightKind.FeedForwardNorm => Layer(layer, "ffn_norm.weight"),
            WeightKind.Query => Layer(layer, "attn_q.weight"),
            WeightKind.Key => Layer(layer, "attn_k.weight"),
            WeightKind.Value => Layer(layer, "attn_v.weight"),
            WeightKind.QueryBias => Layer(layer, "attn_q.bias"),
            WeightKind.KeyBias => Layer(layer, "attn_k.bias"),
            WeightKind.ValueBias => Layer(layer, "attn_v.bias"),
            WeightKind.AttentionOutput => Layer(layer, "attn_output.weight"),
            WeightKind.Gate => Layer(layer, "ffn_gate.weight"),
            WeightKind.Up => Layer(layer, "ffn_up.weight"),
            WeightKind.Down => Layer(layer, "ffn_down.weight"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        long rows = kind switch
        {
            WeightKind.Embedding or WeightKind.LanguageModelHead => c.VocabularySize,
            WeightKind.AttentionNorm or WeightKind.FeedForwardNorm or WeightKind.FinalNorm or WeightKind.QueryBias or WeightKind.KeyBias or WeightKind.ValueBias => 1,
            WeightKind.Query => c.HeadCount * hd,
            WeightKind.Key or WeightKind.Value => c.KeyValueHeadCount * hd,
            WeightKind.AttentionOutput or WeightKind.Down => c.HiddenSize,
            _ => c.IntermediateSize,
        };
        return (name, 0, rows);
    }

    /// <summary>Checks every tensor the model reads: present, the shape the metadata implies, a type Infera imports.</summary>
    private void ValidateTensors()
    {
        var c = Config;
        long hd = c.EffectiveHeadSize;
        Expect("token_embd.weight", c.HiddenSize, c.VocabularySize);
        Expect("output_norm.weight", c.HiddenSize);
        if (!c.TiedEmbeddings)
        {
            Expect("output.weight", c.HiddenSize, c.VocabularySize);
        }

        for (int l = 0; l < c.LayerCount; l++)
        {
            Expect(Layer(l, "attn_norm.weight"), c.HiddenSize);
            Expect(Layer(l, "ffn_norm.weight"), c.HiddenSize);
            Expect(Layer(l, "attn_output.weight"), c.HeadCount * hd, c.HiddenSize);
            Expect(Layer(l, "ffn_down.weight"), c.IntermediateSize, c.HiddenSize);
            if (FusedQkv)
            {
                Expect(Layer(l, "attn_qkv.weight"), c.HiddenSize, (c.HeadCount + (2 * c.KeyValueHeadCount)) * hd);
            }
            else
            {
                Expect(Layer(l, "attn_q.weight"), c.HiddenSize, c.HeadCount * hd);
                Expect(Layer(l, "attn_k.weight"), c.HiddenSize, c.KeyValueHeadCount * hd);
                Expect(Layer(l, "attn_v.weight"), c.HiddenSize, c.KeyValueHeadCount * hd);
            }

            if (c.AttentionBias)
            {
                Expect(Layer(l, "attn_q.bias"), c.HeadCount * hd);
                Expect(Layer(l, "attn_k.bias"), c.KeyValueHeadCount * hd);
                Expect(Layer(l, "attn_v.bias"), c.KeyValueHeadCount * hd);
            }

            if (c.Architecture == ModelArchitecture.Phi3)
            {
                Expect(Layer(l, "ffn_up.weight"), c.HiddenSize, 2L * c.IntermediateSize);
            }
            else
            {
                Expect(Layer(l, "ffn_gate.weight"), c.HiddenSize, c.IntermediateSize);
                Expect(Layer(l, "ffn_up.weight"), c.HiddenSize, c.IntermediateSize);
            }
        }

        void Expect(string name, params long[] dims)
        {
            if (!_file.Tensors.TryGetValue(name, out var tensor))
            {
                throw GgufFile.Error(_file.Path, $"tensor {name} is missing");
            }

            if (!GgufBlocks.IsSupported(tensor.Type))
            {
                throw _file.UnsupportedType(tensor);
            }

            if (!tensor.Dimensions.SequenceEqual(dims))
            {
                throw GgufFile.Error(_file.Path, $"tensor {name} has dimensions [{string.Join(", ", tensor.Dimensions)}], but the metadata implies [{string.Join(", ", dims)}]");
            }
        }
    }

    public override float[] Read(WeightKind kind, int layer)
    {
        var (name, first, rows) = Locate(kind, layer);
        var tensor = _file.Tensors[name];
        var result = new float[rows * tensor.RowLength];
        _file.ReadFloatRows(tensor, first, (int)rows, result);
        return result;
    }

    public override bool TryReadRows(WeightKind kind, int firstRow, int rowCount, Memory<float> destination)
    {
        CheckRows(kind, firstRow, rowCount, destination);
        var (name, first, rows) = Locate(kind, 0);
        var tensor = _file.Tensors[name];
        if (rows != Config.VocabularySize || tensor.RowLength != Config.HiddenSize)
        {
            return false;
        }

        _file.ReadFloatRows(tensor, first + firstRow, rowCount, destination);
        return true;
    }

    public override QuantizedMatrix? ReadQuantized(WeightKind kind, int layer)
    {
        var (name, first, rows) = Locate(kind, layer);
        var tensor = _file.Tensors[name];
        var codes = GgufCodes.From(_file, tensor);
        if (codes is null || (first == 0 && rows == codes.Layout.N))
        {
            return codes;
        }

        return codes.MapRows((int)rows, r => (int)first + r);
    }

    /// <summary>Writes the tokenizer files from the metadata.</summary>
    public void WriteTokenizer(string directory) => GgufTokenizer.Write(_file, Config, directory);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file.Dispose();
        }

        base.Dispose(disposing);
    }
}
