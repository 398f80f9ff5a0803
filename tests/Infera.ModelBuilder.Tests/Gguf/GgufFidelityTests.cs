using LLama.Native;
using Xunit.Abstractions;
using SharedModels = Infera.Tests.TestModels;

namespace Infera.ModelBuilder.Tests;

/// <summary>stories260K as GGUF at llama.cpp's own quantizations, each imported with precision keep.</summary>
public sealed class GgufStoriesFixture : IDisposable
{
    private readonly TempDirectory _temp = new();

    public GgufStoriesFixture()
    {
        Source = Path.Combine(SharedModels.Get("stories260K-gguf"), "stories260K-f32.gguf");
        Files["f32"] = Source;
        foreach (var (name, type) in new[] { ("f16", LLamaFtype.MOSTLY_F16), ("q4_k_m", LLamaFtype.MOSTLY_Q4_K_M) })
        {
            Files[name] = _temp.Combine(name + ".gguf");
            LlamaCpp.Quantize(Source, Files[name], type);
        }

        // llama.cpp's quantizer refuses Q8_0/Q4_0 for rows of 172 (the feed-forward width): ggml's reference quantizers
        // write those files, with F16 where a row is not whole blocks, and llama.cpp loads them as the reference.
        foreach (var (name, type) in new[] { ("q8_0", GgufType.Q8_0), ("q4_0", GgufType.Q4_0) })
        {
            Files[name] = _temp.Combine(name + ".gguf");
            GgufRequantizer.Write(Source, Files[name], type);
        }

        foreach (var (name, file) in Files)
        {
            Folders[name] = _temp.Combine("infera-" + name);
            ModelConverter.ConvertGgufAsync(file, Folders[name]).GetAwaiter().GetResult();
        }
    }

    public string Source { get; }

    public Dictionary<string, string> Files { get; } = [];

    public Dictionary<string, string> Folders { get; } = [];

    public void Dispose() => _temp.Dispose();
}

public sealed class GgufFidelityTests(GgufStoriesFixture fixture, ITestOutputHelper output) : IClassFixture<GgufStoriesFixture>
{
    [Theory]
    [InlineData("f32")]
    [InlineData("f16")]
    [InlineData("q8_0")]
    public void GenerateGreedy_ImportedStories260K_EqualsLlamaCppOnTheSameFile(string type)
    {
        using var llama = new LlamaCpp(fixture.Files[type]);
        int[] ours = GenAI.Encode(fixture.Folders[type], "Once upon a time");
        Assert.Equal(llama.Tokenize("Once upon a time", addBos: true), ours);

        var expected = llama.Greedy(ours, 200, eos: 2);
        var (tokens, _) = GenAI.GenerateGreedy(fixture.Folders[type], "Once upon a time", ours.Length + expected.Count);

        Assert.True(expected.Count > 100);
        Assert.Equal(expected, tokens.Skip(ours.Length).ToArray());
    }

    [Theory]
    [InlineData("q4_0")]
    [InlineData("q4_k_m")]
    public void Perplexity_ImportedQuantizedStories260K_WithinTwoPercentOfLlamaCpp(string type)
    {
        string text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "tinystories-style.txt"));
        using var llama = new LlamaCpp(fixture.Files[type]);
        var tokens = llama.Tokenize(text, addBos: true).Take(256).ToArray();

        double theirs = Perplexity(llama.Logits(tokens), tokens);
        double ours = Perplexity(GenAI.PromptLogits(fixture.Folders[type], tokens), tokens);
        double reference = Perplexity(GenAI.PromptLogits(fixture.Folders["f32"], tokens), tokens);

        output.WriteLine($"{type}: perplexity over {tokens.Length} tokens: Infera {ours:F4}, llama.cpp {theirs:F4} (ratio {ours / theirs:F4}); f32 {reference:F4}");
        Assert.InRange(ours / theirs, 0.98, 1.02);
        Assert.True(ours < reference * 1.5, $"{type}: perplexity {ours} vs f32 {reference}");
    }

    [Fact]
    public void ConvertGguf_Q4_0_KeepsCodesInMatMulNBits()
    {
        string onnx = File.ReadAllText(Path.Combine(fixture.Folders["q4_0"], "genai_config.json"));
        Assert.Contains("\"llama\"", onnx, StringComparison.Ordinal);
        var graph = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(fixture.Folders["q4_0"], "model.onnx")));
        Assert.Contains(graph.Graph.Node, n => n.OpType == "MatMulNBits" && n.Attribute.Any(a => a.Name == "bits" && a.I == 4));

        // The tied table stays in its codes: gathered for the embedding and, as the head's own copy, multiplied; no float table.
        var gather = Assert.Single(graph.Graph.Node, n => n.OpType == "GatherBlockQuantized");
        var head = Assert.Single(graph.Graph.Node, n => n.Name.StartsWith("/lm_head/MatMulNBits", StringComparison.Ordinal));
        var table = graph.Graph.Initializer.Single(t => t.Name == gather.Input[0]);
        Assert.Equal(table.Dims, graph.Graph.Initializer.Single(t => t.Name == head.Input[1]).Dims);
        Assert.DoesNotContain(graph.Graph.Initializer, t => t.Name == "model.embed_tokens.weight");
        Assert.DoesNotContain(graph.Graph.Node, n => n.OpType == "Gather" && n.Name.StartsWith("/model/embed_tokens", StringComparison.Ordinal));
    }

    internal static double Perplexity(float[][] logits, IReadOnlyList<int> tokens)
    {
        double nll = 0;
        for (int i = 0; i + 1 < tokens.Count; i++)
        {
            var row = logits[i];
            float max = row.Max();
            double sum = row.Sum(x => Math.Exp(x - max));
            nll -= row[tokens[i + 1]] - max - Math.Log(sum);
        }

        return Math.Exp(nll / (tokens.Count - 1));
    }
}
