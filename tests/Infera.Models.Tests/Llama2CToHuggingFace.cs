using System.Text;
using System.Text.Json;
using Infera.Tests;

namespace Infera.Models.Tests;

/// <summary>
/// Writes the shared stories260K llama2.c checkpoint as a Hugging Face safetensors folder, the way llama2.c's export.py
/// does (q/k rows permuted from interleaved to half-split rotary), so a conversion of it must reproduce the llama2.c golden text.
/// </summary>
internal static class Llama2CToHuggingFace
{
    public static Dictionary<string, byte[]> CreateFiles()
    {
        var bytes = File.ReadAllBytes(Path.Combine(TestModels.Get(TestModels.Stories260K), "stories260K.bin"));
        var header = new int[7];
        Buffer.BlockCopy(bytes, 0, header, 0, 28);
        int dim = header[0], hidden = header[1], layers = header[2], heads = header[3], kvHeads = header[4], vocab = header[5], seq = header[6];
        int headSize = dim / heads, kvDim = kvHeads * headSize;
        var weights = new float[(bytes.Length - 28) / 4];
        Buffer.BlockCopy(bytes, 28, weights, 0, weights.Length * 4);
        int offset = 0;
        float[] Take(int count)
        {
            var result = weights.AsSpan(offset, count).ToArray();
            offset += count;
            return result;
        }

        var embedding = Take(vocab * dim);
        var attentionNorm = Take(layers * dim);
        var wq = Take(layers * dim * dim);
        var wk = Take(layers * kvDim * dim);
        var wv = Take(layers * kvDim * dim);
        var wo = Take(layers * dim * dim);
        var ffnNorm = Take(layers * dim);
        var w1 = Take(layers * hidden * dim);
        var w2 = Take(layers * dim * hidden);
        var w3 = Take(layers * hidden * dim);
        var finalNorm = Take(dim);

        var tensors = new List<(string Name, long[] Shape, float[] Values)>
        {
            ("model.embed_tokens.weight", [vocab, dim], embedding),
            ("model.norm.weight", [dim], finalNorm),
        };
        for (int l = 0; l < layers; l++)
        {
            string p = $"model.layers.{l}.";
            tensors.Add((p + "input_layernorm.weight", [dim], Slice(attentionNorm, l, dim)));
            tensors.Add((p + "post_attention_layernorm.weight", [dim], Slice(ffnNorm, l, dim)));
            tensors.Add((p + "self_attn.q_proj.weight", [dim, dim], Permute(Slice(wq, l, dim * dim), heads, dim, dim)));
            tensors.Add((p + "self_attn.k_proj.weight", [kvDim, dim], Permute(Slice(wk, l, kvDim * dim), kvHeads, kvDim, dim)));
            tensors.Add((p + "self_attn.v_proj.weight", [kvDim, dim], Slice(wv, l, kvDim * dim)));
            tensors.Add((p + "self_attn.o_proj.weight", [dim, dim], Slice(wo, l, dim * dim)));
            tensors.Add((p + "mlp.gate_proj.weight", [hidden, dim], Slice(w1, l, hidden * dim)));
            tensors.Add((p + "mlp.down_proj.weight", [dim, hidden], Slice(w2, l, dim * hidden)));
            tensors.Add((p + "mlp.up_proj.weight", [hidden, dim], Slice(w3, l, hidden * dim)));
        }

        var config = new Dictionary<string, object>
        {
            ["architectures"] = new[] { "LlamaForCausalLM" },
            ["model_type"] = "llama",
            ["hidden_size"] = dim,
            ["intermediate_size"] = hidden,
            ["num_hidden_layers"] = layers,
            ["num_attention_heads"] = heads,
            ["num_key_value_heads"] = kvHeads,
            ["vocab_size"] = vocab,
            ["max_position_embeddings"] = seq,
            ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = 10000.0,
            ["tie_word_embeddings"] = true,
            ["torch_dtype"] = "float32",
            ["bos_token_id"] = 1,
            ["eos_token_id"] = 2,
            ["hidden_act"] = "silu",
        };
        var onnx = TestModels.Get(TestModels.Stories260KOnnx);
        return new Dictionary<string, byte[]>
        {
            ["config.json"] = JsonSerializer.SerializeToUtf8Bytes(config),
            ["model.safetensors"] = Safetensors(tensors),
            ["tokenizer.json"] = File.ReadAllBytes(Path.Combine(onnx, "tokenizer.json")),
            ["tokenizer_config.json"] = File.ReadAllBytes(Path.Combine(onnx, "tokenizer_config.json")),
            ["special_tokens_map.json"] = File.ReadAllBytes(Path.Combine(onnx, "special_tokens_map.json")),
            ["README.md"] = Encoding.UTF8.GetBytes("# stories260K\n"),
        };
    }

    public static long ParameterCount => 32768 + (5 * ((2 * 64) + (64 * 64 * 2) + (32 * 64 * 2) + (3 * 172 * 64))) + 64;

    private static float[] Slice(float[] all, int layer, int size) => all.AsSpan(layer * size, size).ToArray();

    // export.py: w.view(n_heads, dim1 // n_heads // 2, 2, dim2).transpose(1, 2): HF row (head, half, i) is llama2.c row (head, 2i + half).
    private static float[] Permute(float[] w, int heads, int rows, int columns)
    {
        int headSize = rows / heads;
        var result = new float[w.Length];
        for (int h = 0; h < heads; h++)
        {
            for (int half = 0; half < 2; half++)
            {
                for (int i = 0; i < headSize / 2; i++)
                {
                    int to = (h * headSize) + (half * (headSize / 2)) + i;
                    int from = (h * headSize) + (2 * i) + half;
                    Array.Copy(w, from * columns, result, to * columns, columns);
                }
            }
        }

        return result;
    }

    private static byte[] Safetensors(List<(string Name, long[] Shape, float[] Values)> tensors)
    {
        var header = new Dictionary<string, object>();
        long position = 0;
        foreach (var (name, shape, values) in tensors)
        {
            header[name] = new Dictionary<string, object> { ["dtype"] = "F32", ["shape"] = shape, ["data_offsets"] = new[] { position, position + (values.Length * 4L) } };
            position += values.Length * 4L;
        }

        var json = JsonSerializer.Serialize(header);
        json += new string(' ', (8 - (json.Length % 8)) % 8);
        using var stream = new MemoryStream();
        stream.Write(BitConverter.GetBytes((long)json.Length));
        stream.Write(Encoding.UTF8.GetBytes(json));
        foreach (var (_, _, values) in tensors)
        {
            var data = new byte[values.Length * 4];
            Buffer.BlockCopy(values, 0, data, 0, data.Length);
            stream.Write(data);
        }

        return stream.ToArray();
    }
}
