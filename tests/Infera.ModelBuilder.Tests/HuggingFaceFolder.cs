using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Infera.ModelBuilder.Tests;

/// <summary>Writes tiny Hugging Face folders (config.json, safetensors, tokenizer) for the converter's tests.</summary>
internal static class HuggingFaceFolder
{
    public sealed record Tensor(string Name, long[] Shape, float[] Values);

    /// <summary>Writes the tensors of a weight source under Hugging Face names (fusing q/k/v and gate/up for Phi-3).</summary>
    public static void Write(string directory, WeightSource source, string dtype = "F32", int shards = 1, bool writeTokenizer = true, Action<Dictionary<string, object>>? editConfig = null)
    {
        var c = source.Config;
        Directory.CreateDirectory(directory);
        long hd = c.EffectiveHeadSize;
        var tensors = new List<Tensor>
        {
            new("model.embed_tokens.weight", [c.VocabularySize, c.HiddenSize], source.Read(WeightKind.Embedding, 0)),
            new("model.norm.weight", [c.HiddenSize], source.Read(WeightKind.FinalNorm, 0)),
        };
        if (!c.TiedEmbeddings)
        {
            tensors.Add(new("lm_head.weight", [c.VocabularySize, c.HiddenSize], source.Read(WeightKind.LanguageModelHead, 0)));
        }

        for (int l = 0; l < c.LayerCount; l++)
        {
            string p = $"model.layers.{l}.";
            tensors.Add(new(p + "input_layernorm.weight", [c.HiddenSize], source.Read(WeightKind.AttentionNorm, l)));
            tensors.Add(new(p + "post_attention_layernorm.weight", [c.HiddenSize], source.Read(WeightKind.FeedForwardNorm, l)));
            tensors.Add(new(p + "self_attn.o_proj.weight", [c.HiddenSize, c.HeadCount * hd], source.Read(WeightKind.AttentionOutput, l)));
            tensors.Add(new(p + "mlp.down_proj.weight", [c.HiddenSize, c.IntermediateSize], source.Read(WeightKind.Down, l)));
            var q = source.Read(WeightKind.Query, l);
            var k = source.Read(WeightKind.Key, l);
            var v = source.Read(WeightKind.Value, l);
            var gate = source.Read(WeightKind.Gate, l);
            var up = source.Read(WeightKind.Up, l);
            if (c.Architecture == ModelArchitecture.Phi3)
            {
                tensors.Add(new(p + "self_attn.qkv_proj.weight", [(c.HeadCount + (2 * c.KeyValueHeadCount)) * hd, c.HiddenSize], [.. q, .. k, .. v]));
                tensors.Add(new(p + "mlp.gate_up_proj.weight", [2L * c.IntermediateSize, c.HiddenSize], [.. gate, .. up]));
                continue;
            }

            tensors.Add(new(p + "self_attn.q_proj.weight", [c.HeadCount * hd, c.HiddenSize], q));
            tensors.Add(new(p + "self_attn.k_proj.weight", [c.KeyValueHeadCount * hd, c.HiddenSize], k));
            tensors.Add(new(p + "self_attn.v_proj.weight", [c.KeyValueHeadCount * hd, c.HiddenSize], v));
            tensors.Add(new(p + "mlp.gate_proj.weight", [c.IntermediateSize, c.HiddenSize], gate));
            tensors.Add(new(p + "mlp.up_proj.weight", [c.IntermediateSize, c.HiddenSize], up));
            if (c.AttentionBias)
            {
                tensors.Add(new(p + "self_attn.q_proj.bias", [c.HeadCount * hd], source.Read(WeightKind.QueryBias, l)));
                tensors.Add(new(p + "self_attn.k_proj.bias", [c.KeyValueHeadCount * hd], source.Read(WeightKind.KeyBias, l)));
                tensors.Add(new(p + "self_attn.v_proj.bias", [c.KeyValueHeadCount * hd], source.Read(WeightKind.ValueBias, l)));
            }
        }

        WriteSafetensors(directory, tensors, dtype, shards);
        var config = new Dictionary<string, object>
        {
            ["architectures"] = new[] { c.Architecture switch { ModelArchitecture.Qwen2 => "Qwen2ForCausalLM", ModelArchitecture.Mistral => "MistralForCausalLM", ModelArchitecture.Phi3 => "Phi3ForCausalLM", _ => "LlamaForCausalLM" } },
            ["model_type"] = c.GenAIModelType,
            ["hidden_size"] = c.HiddenSize,
            ["intermediate_size"] = c.IntermediateSize,
            ["num_hidden_layers"] = c.LayerCount,
            ["num_attention_heads"] = c.HeadCount,
            ["num_key_value_heads"] = c.KeyValueHeadCount,
            ["vocab_size"] = c.VocabularySize,
            ["max_position_embeddings"] = c.ContextLength,
            ["rms_norm_eps"] = c.RmsNormEpsilon,
            ["rope_theta"] = c.RopeTheta,
            ["tie_word_embeddings"] = c.TiedEmbeddings,
            ["hidden_act"] = "silu",
            ["bos_token_id"] = c.BosTokenId,
            ["eos_token_id"] = c.EosTokenIds[0],
            ["torch_dtype"] = "float32",
        };
        if (c.SlidingWindow is int window)
        {
            config["sliding_window"] = window;
        }

        editConfig?.Invoke(config);
        File.WriteAllText(Path.Combine(directory, "config.json"), JsonSerializer.Serialize(config));
        if (writeTokenizer)
        {
            HuggingFaceTokenizerWriter.Write(SyntheticVocabulary.Create(c.VocabularySize), directory, c.ContextLength, chatTemplate: "{% for m in messages %}{{ m['content'] }}{% endfor %}");
        }
    }

    public static void WriteSafetensors(string directory, IReadOnlyList<Tensor> tensors, string dtype, int shards)
    {
        int perShard = (tensors.Count + shards - 1) / shards;
        var weightMap = new Dictionary<string, string>();
        for (int s = 0; s < shards; s++)
        {
            string name = shards == 1 ? "model.safetensors" : $"model-{s + 1:D5}-of-{shards:D5}.safetensors";
            var part = tensors.Skip(s * perShard).Take(perShard).ToList();
            foreach (var t in part)
            {
                weightMap[t.Name] = name;
            }

            WriteFile(Path.Combine(directory, name), part, dtype);
        }

        if (shards > 1)
        {
            File.WriteAllText(Path.Combine(directory, "model.safetensors.index.json"), JsonSerializer.Serialize(new Dictionary<string, object> { ["metadata"] = new Dictionary<string, object>(), ["weight_map"] = weightMap }));
        }
    }

    public static void WriteFile(string path, IReadOnlyList<Tensor> tensors, string dtype)
    {
        var header = new Dictionary<string, object> { ["__metadata__"] = new Dictionary<string, string> { ["format"] = "pt" } };
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var t in tensors)
        {
            byte[] bytes = dtype switch
            {
                "F32" => MemoryMarshal.AsBytes(t.Values.AsSpan()).ToArray(),
                "F16" => MemoryMarshal.AsBytes(t.Values.Select(v => (Half)v).ToArray().AsSpan()).ToArray(),
                "BF16" => MemoryMarshal.AsBytes(t.Values.Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray().AsSpan()).ToArray(),
                _ => throw new ArgumentException(dtype),
            };
            header[t.Name] = new Dictionary<string, object> { ["dtype"] = dtype, ["shape"] = t.Shape, ["data_offsets"] = new[] { offset, offset + bytes.Length } };
            offset += bytes.Length;
            blobs.Add(bytes);
        }

        byte[] json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        using var file = File.Create(path);
        file.Write(BitConverter.GetBytes((ulong)json.Length));
        file.Write(json);
        foreach (var blob in blobs)
        {
            file.Write(blob);
        }
    }
}
