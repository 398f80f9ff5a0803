using System.Text.Encodings.Web;
using System.Text.Json;

namespace Infera.ModelBuilder;

/// <summary>Writes ONNX Runtime GenAI's <c>genai_config.json</c> for a decoder graph.</summary>
internal static class GenAIConfigWriter
{
    public static void Write(string path, TransformerConfig config, GraphInfo graph, ConversionOptions options)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteStartObject("model");
        w.WriteNumber("bos_token_id", config.BosTokenId);
        w.WriteNumber("context_length", config.ContextLength);
        w.WriteStartObject("decoder");
        w.WriteStartObject("session_options");
        w.WriteString("log_id", "onnxruntime-genai");
        if (options.IntraOpThreadCount is int threads)
        {
            w.WriteNumber("intra_op_num_threads", threads);
        }

        w.WriteStartArray("provider_options");
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteString("filename", "model.onnx");
        w.WriteNumber("head_size", graph.HeadSize);
        w.WriteNumber("hidden_size", config.HiddenSize);
        w.WriteStartObject("inputs");
        w.WriteString("input_ids", "input_ids");
        w.WriteString("attention_mask", "attention_mask");
        if (graph.HasPositionIds)
        {
            w.WriteString("position_ids", "position_ids");
        }

        w.WriteString("past_key_names", "past_key_values.%d.key");
        w.WriteString("past_value_names", "past_key_values.%d.value");
        w.WriteEndObject();
        w.WriteStartObject("outputs");
        w.WriteString("logits", "logits");
        w.WriteString("present_key_names", "present.%d.key");
        w.WriteString("present_value_names", "present.%d.value");
        w.WriteEndObject();
        w.WriteNumber("num_attention_heads", config.HeadCount);
        w.WriteNumber("num_hidden_layers", config.LayerCount);
        w.WriteNumber("num_key_value_heads", config.KeyValueHeadCount);
        w.WriteEndObject();
        w.WriteStartArray("eos_token_id");
        foreach (int id in config.EosTokenIds)
        {
            w.WriteNumberValue(id);
        }

        w.WriteEndArray();
        w.WriteNumber("pad_token_id", config.PadTokenId);
        w.WriteString("type", config.GenAIModelType);
        w.WriteNumber("vocab_size", config.VocabularySize);
        w.WriteEndObject();

        w.WriteStartObject("search");
        w.WriteNumber("diversity_penalty", 0.0);
        w.WriteBoolean("do_sample", false);
        w.WriteBoolean("early_stopping", true);
        w.WriteNumber("length_penalty", 1.0);
        w.WriteNumber("max_length", config.ContextLength);
        w.WriteNumber("min_length", 0);
        w.WriteNumber("no_repeat_ngram_size", 0);
        w.WriteNumber("num_beams", 1);
        w.WriteNumber("num_return_sequences", 1);
        w.WriteBoolean("past_present_share_buffer", graph.SharedKeyValueBuffer);
        w.WriteNumber("repetition_penalty", 1.0);
        w.WriteNumber("temperature", 1.0);
        w.WriteNumber("top_k", 50);
        w.WriteNumber("top_p", 1.0);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
