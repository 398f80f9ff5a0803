using LLama.Native;
using Xunit.Abstractions;

namespace Infera.ModelBuilder.Tests;

/// <summary>Synthetic llama and qwen2 GGUFs (grouped-query attention, biases, tied and untied heads): logits against llama.cpp's on the same file.</summary>
public sealed class GgufSyntheticTests(ITestOutputHelper output)
{
    private static readonly int[] LlamaPrompt = [1, 300, 310, 45, 120, 280, 281, 300, 77, 290, 12, 299, 305];
    private static readonly int[] QwenPrompt = [84, 104, 101, 256, 258, 32, 99, 97, 116, 262, 275, 10, 273];

    // llama.cpp keeps its key/value cache in float16 (its default), Infera in float32: float32 files differ by about 1e-3 of the logits' range.
    [Theory]
    [InlineData("llama", true, false, "f32", 1.5e-3)]
    [InlineData("llama", false, false, "f32", 1.5e-3)]
    [InlineData("qwen2", true, true, "f32", 1.5e-3)]
    [InlineData("qwen2", false, true, "f32", 1.5e-3)]
    [InlineData("llama", false, false, "q8_0", 2e-2)]
    [InlineData("llama", true, false, "q4_0", 5e-2)]
    [InlineData("qwen2", false, true, "q4_0", 5e-2)]
    [InlineData("llama", false, false, "q6_k", 3e-2)]
    [InlineData("qwen2", true, true, "q4_k_m", 6e-2)]
    [InlineData("phi3", false, false, "f32", 1.5e-3)]
    [InlineData("phi3", false, false, "q4_0", 5e-2)]
    public async Task PromptLogits_SyntheticGguf_MatchLlamaCpp(string architecture, bool tied, bool biases, string type, double tolerance)
    {
        using var temp = new TempDirectory();
        string f32 = temp.Combine("model-f32.gguf");
        SyntheticGguf.Create(new SyntheticGguf.Shape(architecture, Tied: tied, Biases: biases)).Write(f32);
        string file = f32;
        if (type != "f32")
        {
            file = temp.Combine($"model-{type}.gguf");
            var ftype = type switch
            {
                "q8_0" => LLamaFtype.MOSTLY_Q8_0,
                "q4_0" => LLamaFtype.MOSTLY_Q4_0,
                "q6_k" => LLamaFtype.MOSTLY_Q6_K,
                _ => LLamaFtype.MOSTLY_Q4_K_M,
            };
            LlamaCpp.Quantize(f32, file, ftype);
        }

        string folder = temp.Combine("infera");
        await ModelConverter.ConvertGgufAsync(file, folder);
        int[] prompt = architecture == "qwen2" ? QwenPrompt : LlamaPrompt;
        float[][] expected;
        using (var llama = new LlamaCpp(file))
        {
            expected = llama.Logits(prompt);
        }

        var actual = GenAI.PromptLogits(folder, prompt);

        double scale = expected.SelectMany(r => r).Max(Math.Abs);
        double worst = 0;
        for (int p = 0; p < prompt.Length; p++)
        {
            for (int v = 0; v < expected[p].Length; v++)
            {
                worst = Math.Max(worst, Math.Abs(expected[p][v] - actual[p][v]));
            }
        }

        output.WriteLine($"{architecture} tied={tied} biases={biases} {type}: max |Δlogit| / max |logit| = {worst / scale:G3}");
        Assert.True(worst <= tolerance * scale, $"{architecture} {type}: max |Δlogit| {worst:G4} over max |logit| {scale:G4} (ratio {worst / scale:G3}, tolerance {tolerance})");
        if (type == "f32")
        {
            // The greedy choice at every position is llama.cpp's.
            Assert.Equal(expected.Select(r => LlamaCpp.ArgMax(r)), actual.Select(r => LlamaCpp.ArgMax(r)));
        }
    }

    [Fact]
    public async Task Tokenizer_Qwen2ByteLevelGguf_EncodesAsLlamaCpp()
    {
        using var temp = new TempDirectory();
        string file = temp.Combine("qwen2.gguf");
        SyntheticGguf.Create(new SyntheticGguf.Shape("qwen2", Hidden: 64, Intermediate: 128, Layers: 1, Biases: true)).Write(file);
        string folder = temp.Combine("infera");
        await ModelConverter.ConvertGgufAsync(file, folder);
        const string Text = "<|im_start|>user\nThe cat sat in the hat, then went on.<|im_end|>\n";

        using var llama = new LlamaCpp(file);
        var expected = llama.Tokenize(Text, addBos: false);

        Assert.Equal(expected, GenAI.Encode(folder, Text));
        Assert.Contains(expected, id => id > 255);
    }

    [Fact]
    public async Task Tokenizer_SentencePieceGguf_EncodesAsLlamaCpp()
    {
        using var temp = new TempDirectory();
        string file = temp.Combine("llama.gguf");
        SyntheticGguf.Create(new SyntheticGguf.Shape("llama", Hidden: 64, Intermediate: 128, Layers: 1)).Write(file);
        string folder = temp.Combine("infera");
        await ModelConverter.ConvertGgufAsync(file, folder);
        const string Text = "The cat sat in the hat, then went on! Ünïcode";

        using var llama = new LlamaCpp(file);

        Assert.Equal(llama.Tokenize(Text, addBos: true), GenAI.Encode(folder, Text));
    }
}
