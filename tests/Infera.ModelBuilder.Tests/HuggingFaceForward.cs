using System.Text;
using System.Text.Json;

namespace Infera.ModelBuilder.Tests;

/// <summary>
/// An independent forward pass of a Hugging Face Llama-family folder (Llama, Mistral, Qwen2, Phi-3), written from
/// transformers' modeling code and sharing nothing with the converter: it reads <c>config.json</c> and float32
/// <c>model.safetensors</c> itself, computes in double over the whole sequence at once (no key/value cache), and masks
/// each layer with the window the caller states (key j is seen from query i when j ≤ i and i − j &lt; window).
/// </summary>
internal static class HuggingFaceForward
{
    /// <summary>Returns the logits at every position of <paramref name="tokens"/> [positions, vocabulary].</summary>
    public static float[][] Run(string folder, IReadOnlyList<int> tokens, IReadOnlyList<int?> windows)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "config.json")));
        var config = json.RootElement;
        var w = ReadSafetensors(Path.Combine(folder, "model.safetensors"));
        bool phi3 = config.GetProperty("model_type").GetString() == "phi3";
        int hidden = config.GetProperty("hidden_size").GetInt32();
        int heads = config.GetProperty("num_attention_heads").GetInt32();
        int kvHeads = config.GetProperty("num_key_value_heads").GetInt32();
        int layers = config.GetProperty("num_hidden_layers").GetInt32();
        int intermediate = config.GetProperty("intermediate_size").GetInt32();
        double theta = config.GetProperty("rope_theta").GetDouble();
        double eps = config.GetProperty("rms_norm_eps").GetDouble();
        bool tied = config.TryGetProperty("tie_word_embeddings", out var t) && t.GetBoolean();
        int hd = hidden / heads;
        Assert.Equal(layers, windows.Count);

        int n = tokens.Count;
        var embed = w["model.embed_tokens.weight"];
        var x = tokens.Select(token => embed.AsSpan(token * hidden, hidden).ToArray().Select(v => (double)v).ToArray()).ToArray();
        for (int l = 0; l < layers; l++)
        {
            string p = $"model.layers.{l}.";
            var h = x.Select(row => RmsNorm(row, w[p + "input_layernorm.weight"], eps)).ToArray();
            double[][] q, k, v;
            if (phi3)
            {
                var qkv = h.Select(row => Linear(row, w[p + "self_attn.qkv_proj.weight"], (heads + (2 * kvHeads)) * hd)).ToArray();
                q = qkv.Select(r => r[..(heads * hd)]).ToArray();
                k = qkv.Select(r => r[(heads * hd)..((heads + kvHeads) * hd)]).ToArray();
                v = qkv.Select(r => r[((heads + kvHeads) * hd)..]).ToArray();
            }
            else
            {
                q = h.Select(row => Linear(row, w[p + "self_attn.q_proj.weight"], heads * hd, w.GetValueOrDefault(p + "self_attn.q_proj.bias"))).ToArray();
                k = h.Select(row => Linear(row, w[p + "self_attn.k_proj.weight"], kvHeads * hd, w.GetValueOrDefault(p + "self_attn.k_proj.bias"))).ToArray();
                v = h.Select(row => Linear(row, w[p + "self_attn.v_proj.weight"], kvHeads * hd, w.GetValueOrDefault(p + "self_attn.v_proj.bias"))).ToArray();
            }

            for (int i = 0; i < n; i++)
            {
                RotateHalf(q[i], heads, hd, i, theta);
                RotateHalf(k[i], kvHeads, hd, i, theta);
            }

            var context = new double[n][];
            for (int i = 0; i < n; i++)
            {
                context[i] = new double[heads * hd];
                for (int head = 0; head < heads; head++)
                {
                    int kv = head / (heads / kvHeads);
                    var scores = new List<(int J, double Score)>();
                    for (int j = 0; j <= i; j++)
                    {
                        if (windows[l] is int window && i - j >= window)
                        {
                            continue;
                        }

                        double dot = 0;
                        for (int d = 0; d < hd; d++)
                        {
                            dot += q[i][(head * hd) + d] * k[j][(kv * hd) + d];
                        }

                        scores.Add((j, dot / Math.Sqrt(hd)));
                    }

                    double max = scores.Max(s => s.Score);
                    double sum = scores.Sum(s => Math.Exp(s.Score - max));
                    foreach (var (j, score) in scores)
                    {
                        double weight = Math.Exp(score - max) / sum;
                        for (int d = 0; d < hd; d++)
                        {
                            context[i][(head * hd) + d] += weight * v[j][(kv * hd) + d];
                        }
                    }
                }
            }

            for (int i = 0; i < n; i++)
            {
                Add(x[i], Linear(context[i], w[p + "self_attn.o_proj.weight"], hidden));
                var h2 = RmsNorm(x[i], w[p + "post_attention_layernorm.weight"], eps);
                double[] gate, up;
                if (phi3)
                {
                    var gateUp = Linear(h2, w[p + "mlp.gate_up_proj.weight"], 2 * intermediate);
                    gate = gateUp[..intermediate];
                    up = gateUp[intermediate..];
                }
                else
                {
                    gate = Linear(h2, w[p + "mlp.gate_proj.weight"], intermediate);
                    up = Linear(h2, w[p + "mlp.up_proj.weight"], intermediate);
                }

                var act = gate.Select((g, j) => g / (1 + Math.Exp(-g)) * up[j]).ToArray();
                Add(x[i], Linear(act, w[p + "mlp.down_proj.weight"], hidden));
            }
        }

        var lmHead = tied ? embed : w["lm_head.weight"];
        return x.Select(row => Linear(RmsNorm(row, w["model.norm.weight"], eps), lmHead, embed.Length / hidden).Select(d => (float)d).ToArray()).ToArray();
    }

    private static double[] RmsNorm(double[] x, float[] weight, double eps)
    {
        double scale = 1 / Math.Sqrt((x.Sum(v => v * v) / x.Length) + eps);
        return x.Select((v, i) => v * scale * weight[i]).ToArray();
    }

    /// <summary>y = W x (+ b) with W row-major [outputs, inputs], as torch.nn.Linear.</summary>
    private static double[] Linear(double[] x, float[] weight, int outputs, float[]? bias = null)
    {
        var y = new double[outputs];
        for (int o = 0; o < outputs; o++)
        {
            double sum = bias?[o] ?? 0;
            for (int i = 0; i < x.Length; i++)
            {
                sum += weight[(o * x.Length) + i] * x[i];
            }

            y[o] = sum;
        }

        return y;
    }

    /// <summary>transformers' apply_rotary_pos_emb: q·cos + rotate_half(q)·sin, inv_freq = theta^(−2i/d).</summary>
    private static void RotateHalf(double[] x, int heads, int hd, int position, double theta)
    {
        int half = hd / 2;
        for (int head = 0; head < heads; head++)
        {
            int b = head * hd;
            for (int i = 0; i < half; i++)
            {
                double angle = position * (1.0 / Math.Pow(theta, 2.0 * i / hd));
                double a = x[b + i], c = x[b + i + half];
                x[b + i] = (a * Math.Cos(angle)) - (c * Math.Sin(angle));
                x[b + i + half] = (c * Math.Cos(angle)) + (a * Math.Sin(angle));
            }
        }
    }

    private static void Add(double[] x, double[] y)
    {
        for (int i = 0; i < x.Length; i++)
        {
            x[i] += y[i];
        }
    }

    private static Dictionary<string, float[]> ReadSafetensors(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        int headerLength = (int)BitConverter.ToUInt64(file, 0);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(file, 8, headerLength));
        var tensors = new Dictionary<string, float[]>();
        foreach (var entry in header.RootElement.EnumerateObject().Where(e => e.Name != "__metadata__"))
        {
            Assert.Equal("F32", entry.Value.GetProperty("dtype").GetString());
            var offsets = entry.Value.GetProperty("data_offsets");
            int start = 8 + headerLength + (int)offsets[0].GetInt64(), end = 8 + headerLength + (int)offsets[1].GetInt64();
            var values = new float[(end - start) / 4];
            Buffer.BlockCopy(file, start, values, 0, end - start);
            tensors[entry.Name] = values;
        }

        return tensors;
    }
}
