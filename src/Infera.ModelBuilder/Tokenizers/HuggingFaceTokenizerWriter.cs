using System.Text.Encodings.Web;
using System.Text.Json;

namespace Infera.ModelBuilder;

/// <summary>
/// Writes a SentencePiece-style BPE vocabulary as a Hugging Face <c>tokenizer.json</c> (Llama layout: "▁" normalization,
/// byte fallback, BOS post-processor) with its <c>tokenizer_config.json</c> and <c>special_tokens_map.json</c>, which
/// ONNX Runtime GenAI's tokenizer loads.
/// </summary>
internal static class HuggingFaceTokenizerWriter
{
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(SentencePieceVocabulary vocabulary, string directory, int modelMaxLength, bool addBos = true, string? chatTemplate = null)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        WriteTokenizerJson(vocabulary, Path.Combine(directory, "tokenizer.json"), addBos);
        WriteTokenizerConfig(vocabulary, Path.Combine(directory, "tokenizer_config.json"), modelMaxLength, addBos, chatTemplate);
        WriteSpecialTokensMap(vocabulary, Path.Combine(directory, "special_tokens_map.json"));
    }

    private static void WriteTokenizerJson(SentencePieceVocabulary v, string path, bool addBos)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, WriterOptions);
        string bos = v.Pieces[v.BosId];
        w.WriteStartObject();
        w.WriteString("version", "1.0");
        w.WriteNull("truncation");
        w.WriteNull("padding");

        w.WriteStartArray("added_tokens");
        foreach (int id in new[] { v.UnknownId, v.BosId, v.EosId }.Concat(v.PadId is int p ? [p] : []).Concat(v.ControlIds).Distinct().Order())
        {
            w.WriteStartObject();
            w.WriteNumber("id", id);
            w.WriteString("content", v.Pieces[id]);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("special", true);
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartObject("normalizer");
        w.WriteString("type", "Sequence");
        w.WriteStartArray("normalizers");
        w.WriteStartObject();
        w.WriteString("type", "Prepend");
        w.WriteString("prepend", "\u2581");
        w.WriteEndObject();
        w.WriteStartObject();
        w.WriteString("type", "Replace");
        w.WriteStartObject("pattern");
        w.WriteString("String", " ");
        w.WriteEndObject();
        w.WriteString("content", "\u2581");
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();

        w.WriteNull("pre_tokenizer");

        if (addBos)
        {
            w.WriteStartObject("post_processor");
            w.WriteString("type", "TemplateProcessing");
            w.WriteStartArray("single");
            WriteSpecial(w, bos, 0);
            WriteSequence(w, "A", 0);
            w.WriteEndArray();
            w.WriteStartArray("pair");
            WriteSpecial(w, bos, 0);
            WriteSequence(w, "A", 0);
            WriteSpecial(w, bos, 1);
            WriteSequence(w, "B", 1);
            w.WriteEndArray();
            w.WriteStartObject("special_tokens");
            w.WriteStartObject(bos);
            w.WriteString("id", bos);
            w.WriteStartArray("ids");
            w.WriteNumberValue(v.BosId);
            w.WriteEndArray();
            w.WriteStartArray("tokens");
            w.WriteStringValue(bos);
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
        w.WriteString("type", "Sequence");
        w.WriteStartArray("decoders");
        w.WriteStartObject();
        w.WriteString("type", "Replace");
        w.WriteStartObject("pattern");
        w.WriteString("String", "\u2581");
        w.WriteEndObject();
        w.WriteString("content", " ");
        w.WriteEndObject();
        w.WriteStartObject();
        w.WriteString("type", "ByteFallback");
        w.WriteEndObject();
        w.WriteStartObject();
        w.WriteString("type", "Fuse");
        w.WriteEndObject();
        w.WriteStartObject();
        w.WriteString("type", "Strip");
        w.WriteString("content", " ");
        w.WriteNumber("start", 1);
        w.WriteNumber("stop", 0);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();

        w.WriteStartObject("model");
        w.WriteString("type", "BPE");
        w.WriteNull("dropout");
        w.WriteString("unk_token", v.Pieces[v.UnknownId]);
        w.WriteNull("continuing_subword_prefix");
        w.WriteNull("end_of_word_suffix");
        w.WriteBoolean("fuse_unk", true);
        w.WriteBoolean("byte_fallback", true);
        w.WriteStartObject("vocab");
        var written = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < v.Count; i++)
        {
            // A duplicated piece keeps its first id, as SentencePiece does.
            if (written.Add(v.Pieces[i]))
            {
                w.WriteNumber(v.Pieces[i], i);
            }
        }

        w.WriteEndObject();
        w.WriteStartArray("merges");
        foreach (var (left, right) in v.DeriveMerges())
        {
            w.WriteStringValue(left + " " + right);
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteSpecial(Utf8JsonWriter w, string token, int typeId)
    {
        w.WriteStartObject();
        w.WriteStartObject("SpecialToken");
        w.WriteString("id", token);
        w.WriteNumber("type_id", typeId);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteSequence(Utf8JsonWriter w, string id, int typeId)
    {
        w.WriteStartObject();
        w.WriteStartObject("Sequence");
        w.WriteString("id", id);
        w.WriteNumber("type_id", typeId);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteTokenizerConfig(SentencePieceVocabulary v, string path, int modelMaxLength, bool addBos, string? chatTemplate)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, WriterOptions);
        w.WriteStartObject();
        w.WriteBoolean("add_bos_token", addBos);
        w.WriteBoolean("add_eos_token", false);
        w.WriteString("bos_token", v.Pieces[v.BosId]);
        w.WriteString("eos_token", v.Pieces[v.EosId]);
        w.WriteString("unk_token", v.Pieces[v.UnknownId]);
        if (v.PadId is int pad)
        {
            w.WriteString("pad_token", v.Pieces[pad]);
        }
        else
        {
            w.WriteNull("pad_token");
        }

        w.WriteBoolean("clean_up_tokenization_spaces", false);
        w.WriteBoolean("legacy", true);
        w.WriteNumber("model_max_length", modelMaxLength);
        w.WriteString("tokenizer_class", "LlamaTokenizer");
        w.WriteStartObject("sp_model_kwargs");
        w.WriteEndObject();
        if (chatTemplate is not null)
        {
            w.WriteString("chat_template", chatTemplate);
        }

        w.WriteEndObject();
    }

    private static void WriteSpecialTokensMap(SentencePieceVocabulary v, string path)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, WriterOptions);
        w.WriteStartObject();
        w.WriteString("bos_token", v.Pieces[v.BosId]);
        w.WriteString("eos_token", v.Pieces[v.EosId]);
        w.WriteString("unk_token", v.Pieces[v.UnknownId]);
        w.WriteEndObject();
    }
}
