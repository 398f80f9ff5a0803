using System.Text.Encodings.Web;
using System.Text.Json;

namespace Infera.ModelBuilder;

/// <summary>
/// Writes a GGUF file's tokenizer (metadata <c>tokenizer.ggml.*</c>) as Hugging Face tokenizer files that ONNX Runtime
/// GenAI reads: <c>llama</c> (SentencePiece pieces and scores) through <see cref="HuggingFaceTokenizerWriter"/>, <c>gpt2</c>
/// (byte-level BPE with merges, as Llama 3 and Qwen2 use) as a byte-level BPE <c>tokenizer.json</c> with the
/// pre-tokenizer <c>tokenizer.ggml.pre</c> names. Control and user-defined tokens become special added tokens; the chat
/// template and <c>add_bos_token</c> go to <c>tokenizer_config.json</c>.
/// </summary>
internal static class GgufTokenizer
{
    private const int Control = 3;
    private const int UserDefined = 4;

    private static readonly JsonWriterOptions WriterOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // Pre-tokenizer expressions of llama.cpp's llama-vocab.cpp / the models' own tokenizer.json.
    private const string Gpt2Pattern = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    private const string Llama3Pattern = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private const string Qwen2Pattern = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    public static void Write(GgufFile file, TransformerConfig config, string directory)
    {
        string model = file.GetString("tokenizer.ggml.model") ?? throw GgufFile.Error(file.Path, "tokenizer.ggml.model is missing");
        var tokens = (string[])file.Get("tokenizer.ggml.tokens")!;
        var types = file.Get("tokenizer.ggml.token_type") as int[];
        string? template = file.GetString("tokenizer.chat_template");
        bool addBos = file.GetBool("tokenizer.ggml.add_bos_token") ?? model == "llama";
        int bos = config.BosTokenId, eos = config.EosTokenIds[0];
        if (bos >= tokens.Length || eos >= tokens.Length)
        {
            throw GgufFile.Error(file.Path, $"the BOS ({bos}) or EOS ({eos}) token id is outside the vocabulary of {tokens.Length}");
        }

        var control = new HashSet<int>();
        if (types is not null)
        {
            for (int i = 0; i < types.Length && i < tokens.Length; i++)
            {
                if (types[i] is Control or UserDefined)
                {
                    control.Add(i);
                }
            }
        }

        foreach (int id in config.EosTokenIds)
        {
            control.Add(id);
        }

        switch (model)
        {
            case "llama":
                {
                    var scores = file.Get("tokenizer.ggml.scores") as float[] ?? new float[tokens.Length];
                    if (scores.Length != tokens.Length)
                    {
                        throw GgufFile.Error(file.Path, $"tokenizer.ggml.scores has {scores.Length} entries for {tokens.Length} tokens");
                    }

                    int unknown = (int)(file.GetInteger("tokenizer.ggml.unknown_token_id") ?? 0);
                    int? pad = file.GetInteger("tokenizer.ggml.padding_token_id") is long p && p < tokens.Length ? (int)p : null;
                    var vocabulary = new SentencePieceVocabulary(tokens, scores, unknown, bos, eos, pad) { ControlIds = control };
                    HuggingFaceTokenizerWriter.Write(vocabulary, directory, config.ContextLength, addBos, template);
                    return;
                }

            case "gpt2":
                {
                    var merges = file.Get("tokenizer.ggml.merges") as string[] ?? throw GgufFile.Error(file.Path, "tokenizer.ggml.merges is missing; a gpt2 (byte-level BPE) tokenizer needs them");
                    string pre = file.GetString("tokenizer.ggml.pre") ?? "default";
                    WriteByteLevel(tokens, merges, control, pre, addBos, bos, eos, template, config.ContextLength, directory);
                    return;
                }

            default:
                throw GgufFile.Error(file.Path, $"tokenizer model '{model}' is not supported; supported are llama (SentencePiece) and gpt2 (byte-level BPE)");
        }
    }

    private static void WriteByteLevel(string[] tokens, string[] merges, HashSet<int> special, string pre, bool addBos, int bos, int eos, string? template, int context, string directory)
    {
        string? pattern = pre switch
        {
            "qwen2" or "deepseek-r1-qwen" => Qwen2Pattern,
            "llama-bpe" or "llama3" or "smaug-bpe" => Llama3Pattern,
            _ => null,
        };
        string tokenizerClass = pre switch
        {
            "qwen2" or "deepseek-r1-qwen" => "Qwen2Tokenizer",
            "llama-bpe" or "llama3" or "smaug-bpe" => "PreTrainedTokenizerFast",
            _ => "GPT2Tokenizer",
        };

        using (var stream = File.Create(Path.Combine(directory, "tokenizer.json")))
        using (var w = new Utf8JsonWriter(stream, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            foreach (int id in special.Order())
            {
                w.WriteStartObject();
                w.WriteNumber("id", id);
                w.WriteString("content", tokens[id]);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("special", true);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteNull("normalizer");
            w.WriteStartObject("pre_tokenizer");
            if (pattern is null)
            {
                ByteLevel(w, useRegex: true);
            }
            else
            {
                w.WriteString("type", "Sequence");
                w.WriteStartArray("pretokenizers");
                w.WriteStartObject();
                w.WriteString("type", "Split");
                w.WriteStartObject("pattern");
                w.WriteString("Regex", pattern);
                w.WriteEndObject();
                w.WriteString("behavior", "Isolated");
                w.WriteBoolean("invert", false);
                w.WriteEndObject();
                w.WriteStartObject();
                ByteLevel(w, useRegex: false);
                w.WriteEndObject();
                w.WriteEndArray();
            }

            w.WriteEndObject();
            if (addBos)
            {
                w.WriteStartObject("post_processor");
                w.WriteString("type", "TemplateProcessing");
                w.WriteStartArray("single");
                Special(w, tokens[bos]);
                Sequence(w, "A");
                w.WriteEndArray();
                w.WriteStartArray("pair");
                Special(w, tokens[bos]);
                Sequence(w, "A");
                Special(w, tokens[bos]);
                Sequence(w, "B");
                w.WriteEndArray();
                w.WriteStartObject("special_tokens");
                w.WriteStartObject(tokens[bos]);
                w.WriteString("id", tokens[bos]);
                w.WriteStartArray("ids");
                w.WriteNumberValue(bos);
                w.WriteEndArray();
                w.WriteStartArray("tokens");
                w.WriteStringValue(tokens[bos]);
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("post_processor");
            }

            w.WriteStartObject("decoder");
            ByteLevel(w, useRegex: true);
            w.WriteEndObject();
            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            w.WriteNull("unk_token");
            w.WriteString("continuing_subword_prefix", string.Empty);
            w.WriteString("end_of_word_suffix", string.Empty);
            w.WriteBoolean("fuse_unk", false);
            w.WriteBoolean("byte_fallback", false);
            w.WriteBoolean("ignore_merges", pattern == Llama3Pattern);
            w.WriteStartObject("vocab");
            var written = new HashSet<string>(StringComparer.Ordinal);
            for (int i = 0; i < tokens.Length; i++)
            {
                if (written.Add(tokens[i]))
                {
                    w.WriteNumber(tokens[i], i);
                }
            }

            w.WriteEndObject();
            w.WriteStartArray("merges");
            foreach (string merge in merges)
            {
                w.WriteStringValue(merge);
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        using (var stream = File.Create(Path.Combine(directory, "tokenizer_config.json")))
        using (var w = new Utf8JsonWriter(stream, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteBoolean("add_bos_token", addBos);
            w.WriteBoolean("add_eos_token", false);
            w.WriteBoolean("add_prefix_space", false);
            w.WriteStartObject("added_tokens_decoder");
            foreach (int id in special.Order())
            {
                w.WriteStartObject(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                w.WriteString("content", tokens[id]);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("special", true);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteString("bos_token", tokens[bos]);
            w.WriteString("eos_token", tokens[eos]);
            w.WriteNull("unk_token");
            w.WriteString("pad_token", tokens[eos]);
            w.WriteBoolean("clean_up_tokenization_spaces", false);
            w.WriteNumber("model_max_length", context);
            w.WriteString("tokenizer_class", tokenizerClass);
            if (template is not null)
            {
                w.WriteString("chat_template", template);
            }

            w.WriteEndObject();
        }
    }

    private static void ByteLevel(Utf8JsonWriter w, bool useRegex)
    {
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", false);
        w.WriteBoolean("trim_offsets", true);
        w.WriteBoolean("use_regex", useRegex);
    }

    private static void Special(Utf8JsonWriter w, string token)
    {
        w.WriteStartObject();
        w.WriteStartObject("SpecialToken");
        w.WriteString("id", token);
        w.WriteNumber("type_id", 0);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Sequence(Utf8JsonWriter w, string id)
    {
        w.WriteStartObject();
        w.WriteStartObject("Sequence");
        w.WriteString("id", id);
        w.WriteNumber("type_id", 0);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
