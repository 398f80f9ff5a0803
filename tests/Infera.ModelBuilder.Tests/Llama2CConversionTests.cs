using SharedModels = Infera.Tests.TestModels;

namespace Infera.ModelBuilder.Tests;

public sealed class Llama2CConversionFixture : IDisposable
{
    private readonly TempDirectory _temp = new();

    public Llama2CConversionFixture()
    {
        Checkpoint = System.IO.Path.Combine(SharedModels.Get(SharedModels.Stories260K), "stories260K.bin");
        Tokenizer = System.IO.Path.Combine(SharedModels.Get(SharedModels.Stories260K), "tok512.bin");
        Float32 = _temp.Combine("fp32");
        Result = ModelConverter.ConvertLlama2CAsync(Checkpoint, Tokenizer, Float32).GetAwaiter().GetResult();
    }

    public string Checkpoint { get; }

    public string Tokenizer { get; }

    public string Float32 { get; }

    public ConversionResult Result { get; }

    public string Combine(string name) => _temp.Combine(name);

    public void Dispose() => _temp.Dispose();
}

public sealed class Llama2CConversionTests(Llama2CConversionFixture fixture) : IClassFixture<Llama2CConversionFixture>
{
    [Fact]
    public void ConvertLlama2C_Stories260K_WritesGenAIFolder()
    {
        Assert.True(File.Exists(Path.Combine(fixture.Float32, "model.onnx")));
        Assert.True(File.Exists(Path.Combine(fixture.Float32, "genai_config.json")));
        Assert.True(File.Exists(Path.Combine(fixture.Float32, "tokenizer.json")));
        Assert.True(File.Exists(Path.Combine(fixture.Float32, "tokenizer_config.json")));
        Assert.Equal(16, fixture.Result.GraphHeadSize);
        Assert.Equal(8, fixture.Result.HeadSize);
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(fixture.Float32)!, ".*"));
    }

    [Fact]
    public void GenerateGreedy_ConvertedStories260K_ReproducesLlama2CGoldenText()
    {
        string golden = File.ReadAllText(Path.Combine(SharedModels.Get(SharedModels.Stories260K), "golden-once-upon-a-time.txt"));

        // llama2.c's -n 256 counts positions including BOS: GenAI's max_length 257.
        var (_, text) = GenAI.GenerateGreedy(fixture.Float32, "Once upon a time", 257);

        Assert.Equal(golden.TrimEnd('\n'), text.TrimEnd('\n'));
    }

    [Fact]
    public void GenerateGreedy_ConvertedStories260KFromBos_ReproducesLlama2CGoldenText()
    {
        string golden = File.ReadAllText(Path.Combine(SharedModels.Get(SharedModels.Stories260K), "golden-from-bos.txt"));

        var (_, text) = GenAI.GenerateGreedy(fixture.Float32, string.Empty, 257);

        Assert.Equal(golden.TrimEnd('\n'), text.TrimEnd('\n'));
    }

    [Theory]
    [InlineData("Once upon a time")]
    [InlineData("Lily and Tom went to the park. They saw a big dog!")]
    [InlineData("\"Hello,\" said the cat. 123 + 4 = 127?")]
    [InlineData("Zürich café – naïve ☃ 日本")]
    public void Encode_ConvertedTokenizer_MatchesLlama2CTokenIds(string text)
    {
        var reference = Llama2CTokenizer.Read(fixture.Tokenizer, 512).Encode(text, bos: true, eos: false);

        var ids = GenAI.Encode(fixture.Float32, text);

        Assert.Equal(reference, ids);
    }

    [Fact]
    public void ConvertLlama2C_TokenizerJson_EqualsReferenceConversionVocabularyAndMerges()
    {
        using var ours = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(fixture.Float32, "tokenizer.json")));
        using var theirs = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(SharedModels.Get(SharedModels.Stories260KOnnx), "tokenizer.json")));

        var ourModel = ours.RootElement.GetProperty("model");
        var theirModel = theirs.RootElement.GetProperty("model");
        Assert.Equal(
            theirModel.GetProperty("vocab").EnumerateObject().Select(p => (p.Name, p.Value.GetInt32())),
            ourModel.GetProperty("vocab").EnumerateObject().Select(p => (p.Name, p.Value.GetInt32())));
        Assert.Equal(
            theirModel.GetProperty("merges").EnumerateArray().Select(m => m.GetString()),
            ourModel.GetProperty("merges").EnumerateArray().Select(m => m.GetString()));
    }
}
