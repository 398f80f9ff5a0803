namespace Infera.ModelBuilder.Tests;

/// <summary>Seeded random-weight GGUF models in llama.cpp's layout, with a SentencePiece ("llama") or byte-level BPE ("gpt2") vocabulary.</summary>
internal static class SyntheticGguf
{
    public sealed record Shape(string Architecture, int Hidden = 256, int Intermediate = 512, int Layers = 2, int Heads = 4, int KvHeads = 2, bool Tied = true, bool Biases = false, int Seed = 7);

    /// <summary>Returns the model's GGUF writer, so a test can change it before writing.</summary>
    public static GgufTestWriter Create(Shape shape)
    {
        var random = new Random(shape.Seed);
        float[] Randn(long n, float std)
        {
            var a = new float[n];
            for (long i = 0; i < n; i++)
            {
                // Box-Muller.
                double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
                a[i] = (float)(std * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            }

            return a;
        }

        float[] Norm(int n) => Enumerable.Range(0, n).Select(_ => 1f + (0.1f * (float)(random.NextDouble() - 0.5))).ToArray();

        string arch = shape.Architecture;
        var (tokens, types, scores, merges, bos, eos) = arch == "qwen2" ? ByteLevelVocabulary() : SentencePieceVocabulary();
        if (arch == "phi3")
        {
            // Phi-3's vocabulary ends with its control tokens; llama.cpp looks "<|endoftext|>" up by name for models named phi3.
            foreach (string control in new[] { "<|endoftext|>", "<|assistant|>", "<|end|>", "<|user|>" })
            {
                tokens.Add(control);
                types.Add(3);
                scores!.Add(0);
            }
        }

        int vocab = tokens.Count;
        int headSize = shape.Hidden / shape.Heads;
        var w = new GgufTestWriter()
            .String("general.architecture", arch)
            .String("general.name", "synthetic-" + arch)
            .U32("general.alignment", 32)
            .U32($"{arch}.context_length", 512)
            .U32($"{arch}.embedding_length", (uint)shape.Hidden)
            .U32($"{arch}.block_count", (uint)shape.Layers)
            .U32($"{arch}.feed_forward_length", (uint)shape.Intermediate)
            .U32($"{arch}.rope.dimension_count", (uint)headSize)
            .U32($"{arch}.attention.head_count", (uint)shape.Heads)
            .U32($"{arch}.attention.head_count_kv", (uint)shape.KvHeads)
            .F32($"{arch}.attention.layer_norm_rms_epsilon", 1e-6f)
            .F32($"{arch}.rope.freq_base", 10000f)
            .String("tokenizer.ggml.model", arch == "qwen2" ? "gpt2" : "llama")
            .Strings("tokenizer.ggml.tokens", tokens)
            .Ints("tokenizer.ggml.token_type", types)
            .U32("tokenizer.ggml.bos_token_id", (uint)bos)
            .U32("tokenizer.ggml.eos_token_id", (uint)eos)
            .Bool("tokenizer.ggml.add_bos_token", arch != "qwen2")
            .String("tokenizer.chat_template", "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}<|im_start|>assistant\n");
        if (arch == "qwen2")
        {
            w.String("tokenizer.ggml.pre", "qwen2").Strings("tokenizer.ggml.merges", merges!);
        }
        else
        {
            w.Floats("tokenizer.ggml.scores", scores!);
        }

        int q = shape.Heads * headSize, kv = shape.KvHeads * headSize;
        w.Tensor("token_embd.weight", Randn((long)vocab * shape.Hidden, 0.5f), vocab, shape.Hidden);
        for (int l = 0; l < shape.Layers; l++)
        {
            w.Tensor($"blk.{l}.attn_norm.weight", Norm(shape.Hidden), shape.Hidden);
            if (arch == "phi3")
            {
                // Phi-3: one fused attn_qkv (query, key, value rows) and ffn_up holding the gate rows, then the up rows.
                w.Tensor($"blk.{l}.attn_qkv.weight", Randn((long)(q + (2 * kv)) * shape.Hidden, 0.08f), q + (2 * kv), shape.Hidden);
            }
            else
            {
                w.Tensor($"blk.{l}.attn_q.weight", Randn((long)q * shape.Hidden, 0.08f), q, shape.Hidden);
                w.Tensor($"blk.{l}.attn_k.weight", Randn((long)kv * shape.Hidden, 0.08f), kv, shape.Hidden);
                w.Tensor($"blk.{l}.attn_v.weight", Randn((long)kv * shape.Hidden, 0.08f), kv, shape.Hidden);
            }

            if (shape.Biases)
            {
                w.Tensor($"blk.{l}.attn_q.bias", Randn(q, 0.2f), q);
                w.Tensor($"blk.{l}.attn_k.bias", Randn(kv, 0.2f), kv);
                w.Tensor($"blk.{l}.attn_v.bias", Randn(kv, 0.2f), kv);
            }

            w.Tensor($"blk.{l}.attn_output.weight", Randn((long)shape.Hidden * q, 0.05f), shape.Hidden, q);
            w.Tensor($"blk.{l}.ffn_norm.weight", Norm(shape.Hidden), shape.Hidden);
            if (arch == "phi3")
            {
                w.Tensor($"blk.{l}.ffn_up.weight", Randn(2L * shape.Intermediate * shape.Hidden, 0.05f), 2 * shape.Intermediate, shape.Hidden);
            }
            else
            {
                w.Tensor($"blk.{l}.ffn_gate.weight", Randn((long)shape.Intermediate * shape.Hidden, 0.05f), shape.Intermediate, shape.Hidden);
                w.Tensor($"blk.{l}.ffn_up.weight", Randn((long)shape.Intermediate * shape.Hidden, 0.05f), shape.Intermediate, shape.Hidden);
            }

            w.Tensor($"blk.{l}.ffn_down.weight", Randn((long)shape.Hidden * shape.Intermediate, 0.05f), shape.Hidden, shape.Intermediate);
        }

        w.Tensor("output_norm.weight", Norm(shape.Hidden), shape.Hidden);
        if (!shape.Tied)
        {
            w.Tensor("output.weight", Randn((long)vocab * shape.Hidden, 0.05f), vocab, shape.Hidden);
        }

        return w;
    }

    /// <summary>SentencePiece pieces: unk, BOS, EOS, 256 byte pieces, then a few merged pieces and letters with scores.</summary>
    private static (List<string>, List<int>, List<float>?, List<string>?, int, int) SentencePieceVocabulary()
    {
        var tokens = new List<string> { "<unk>", "<s>", "</s>" };
        var types = new List<int> { 2, 3, 3 };
        var scores = new List<float> { 0, 0, 0 };
        for (int b = 0; b < 256; b++)
        {
            tokens.Add($"<0x{b:X2}>");
            types.Add(6);
            scores.Add(0);
        }

        string[] pieces = ["▁t", "he", "▁the", "▁a", "in", "er", "▁w", "on", "▁s", "at", "en", "an", "▁h", "ed", "▁c", "it", "is", "▁b", "▁o", "▁f", "▁T", "▁The"];
        float score = -1;
        foreach (string piece in pieces)
        {
            tokens.Add(piece);
            types.Add(1);
            scores.Add(score--);
        }

        foreach (char c in "▁etaoinshrdlcumwfgypbvkjxqzTSO.,!'")
        {
            tokens.Add(c.ToString());
            types.Add(1);
            scores.Add(score--);
        }

        return (tokens, types, scores, null, 1, 2);
    }

    /// <summary>Byte-level BPE (GPT-2's byte-to-unicode alphabet, id = byte), a few merges, and Qwen-style special tokens.</summary>
    private static (List<string>, List<int>, List<float>?, List<string>?, int, int) ByteLevelVocabulary()
    {
        var tokens = ByteToUnicode().Select(c => c.ToString()).ToList();
        var types = Enumerable.Repeat(1, tokens.Count).ToList();
        var merges = new List<string> { "Ġ t", "h e", "Ġt he", "Ġ a", "i n", "e r", "Ġ w", "o n", "Ġ s", "a t", "e n", "a n", "Ġ h", "e d", "Ġ c", "i t", "Ġ T", "ĠT he" };
        foreach (string merge in merges)
        {
            tokens.Add(merge.Replace(" ", string.Empty, StringComparison.Ordinal));
            types.Add(1);
        }

        int eos = tokens.Count;
        tokens.Add("<|endoftext|>");
        types.Add(3);
        tokens.Add("<|im_start|>");
        types.Add(3);
        tokens.Add("<|im_end|>");
        types.Add(3);
        return (tokens, types, null, merges, eos, eos);
    }

    private static char[] ByteToUnicode()
    {
        var bytes = new List<int>();
        bytes.AddRange(Enumerable.Range('!', '~' - '!' + 1));
        bytes.AddRange(Enumerable.Range('¡', '¬' - '¡' + 1));
        bytes.AddRange(Enumerable.Range('®', 'ÿ' - '®' + 1));
        var chars = bytes.ToList();
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            if (!bytes.Contains(b))
            {
                bytes.Add(b);
                chars.Add(256 + n++);
            }
        }

        var result = new char[256];
        for (int i = 0; i < bytes.Count; i++)
        {
            result[bytes[i]] = (char)chars[i];
        }

        return result;
    }
}
