using SharedModels = Infera.Tests.TestModels;
namespace Infera.ModelBuilder.Tests;

public sealed class BadInputTests(Llama2CConversionFixture fixture) : IClassFixture<Llama2CConversionFixture>
{
    private static readonly int[] Story = [1, 403, 407, 261, 400, 263, 333, 406, 505, 281];

    private static void AssertNothingWritten(TempDirectory temp, string output)
    {
        Assert.False(Directory.Exists(output), "the output folder must not exist");
        Assert.Empty(Directory.GetDirectories(temp.Path, ".*"));
    }

    private async Task<ModelConversionException> ConvertLlama2CFails(TempDirectory temp, string checkpoint, string? tokenizer = null)
    {
        string output = temp.Combine("out");
        var e = await Assert.ThrowsAsync<ModelConversionException>(() => ModelConverter.ConvertLlama2CAsync(checkpoint, tokenizer ?? fixture.Tokenizer, output));
        AssertNothingWritten(temp, output);
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    [Fact]
    public async Task ConvertLlama2C_TruncatedCheckpoint_ThrowsTruncated()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("truncated.bin");
        File.WriteAllBytes(path, File.ReadAllBytes(fixture.Checkpoint).AsSpan(0, 500_000).ToArray());

        var e = await ConvertLlama2CFails(temp, path);

        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConvertLlama2C_GgufFile_ThrowsForeignFormat()
    {
        using var temp = new TempDirectory();

        var e = await ConvertLlama2CFails(temp, Path.Combine(SharedModels.Get("stories260K-gguf"), "stories260K-f32.gguf"));

        Assert.Contains("GGUF", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConvertLlama2C_UnknownVersion_ThrowsUnsupportedVersion()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("v7.bin");
        var bytes = File.ReadAllBytes(fixture.Checkpoint);
        BitConverter.GetBytes(0x616b3432u).CopyTo(bytes, 0);
        BitConverter.GetBytes(7).CopyTo(bytes, 4);
        File.WriteAllBytes(path, bytes);

        var e = await ConvertLlama2CFails(temp, path);

        Assert.Contains("version 7", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConvertLlama2C_WrongMagicGarbage_ThrowsNotACheckpoint()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("garbage.bin");
        var bytes = new byte[4096];
        new Random(1).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);

        var e = await ConvertLlama2CFails(temp, path);

        Assert.Contains("not a supported checkpoint", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConvertLlama2C_MissingTokenizer_ThrowsTokenizerNotFound()
    {
        using var temp = new TempDirectory();

        var e = await ConvertLlama2CFails(temp, fixture.Checkpoint, temp.Combine("tok-missing.bin"));

        Assert.Contains("Tokenizer not found", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConvertLlama2C_TruncatedTokenizer_ThrowsTruncated()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("tok.bin");
        File.WriteAllBytes(path, File.ReadAllBytes(fixture.Tokenizer).AsSpan(0, 3000).ToArray());

        var e = await ConvertLlama2CFails(temp, fixture.Checkpoint, path);

        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConvertLlama2C_OutputUnderAFile_ThrowsCannotWrite()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.Combine("file"), "x");
        string output = Path.Combine(temp.Combine("file"), "model");

        var e = await Assert.ThrowsAsync<ModelConversionException>(() => ModelConverter.ConvertLlama2CAsync(fixture.Checkpoint, fixture.Tokenizer, output));

        Assert.Contains("Cannot write", e.Message, StringComparison.Ordinal);
        Assert.Equal(["file"], Directory.GetFileSystemEntries(temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task ConvertLlama2C_ExistingNonEmptyOutput_ThrowsAndKeepsIt()
    {
        using var temp = new TempDirectory();
        string output = temp.Combine("out");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "keep.txt"), "mine");

        var e = await Assert.ThrowsAsync<ModelConversionException>(() => ModelConverter.ConvertLlama2CAsync(fixture.Checkpoint, fixture.Tokenizer, output));

        Assert.Contains("not empty", e.Message, StringComparison.Ordinal);
        Assert.Equal(["keep.txt"], Directory.GetFileSystemEntries(output).Select(Path.GetFileName));
    }

    [Fact]
    public async Task ConvertLlama2C_Canceled_LeavesNoOutput()
    {
        using var temp = new TempDirectory();
        string output = temp.Combine("out");
        using var cts = new CancellationTokenSource();
        var progress = new SynchronousProgress(v =>
        {
            if (v > 0.3)
            {
                cts.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ModelConverter.ConvertLlama2CAsync(fixture.Checkpoint, fixture.Tokenizer, output, null, progress, cts.Token));

        AssertNothingWritten(temp, output);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task ConvertLlama2C_VersionedCheckpoint_MatchesLegacyConversion(int version)
    {
        using var temp = new TempDirectory();
        string path = temp.Combine($"v{version}.bin");
        using (var legacy = Llama2CCheckpoint.Open(fixture.Checkpoint))
        {
            Llama2CExport.Write(path, legacy, version);
        }

        var result = await ModelConverter.ConvertLlama2CAsync(path, fixture.Tokenizer, temp.Combine("out"));
        var expected = GenAI.StepLogits(fixture.Float32, Story);
        var actual = GenAI.StepLogits(result.OutputDirectory, Story);

        using var reopened = Llama2CCheckpoint.Open(path);
        Assert.Equal(version, reopened.Version);
        Assert.InRange(ReferenceLogitsTests.MaxRelativeError(actual, expected), 0, version == 1 ? 1e-6 : 0.05);
    }

    [Fact]
    public async Task ConvertHuggingFace_UnsupportedArchitecture_Throws()
    {
        using var temp = new TempDirectory();
        using (var source = HuggingFaceConversionTests.Source(ModelArchitecture.Llama))
        {
            HuggingFaceFolder.Write(temp.Combine("hf"), source, editConfig: c => { c["model_type"] = "gpt2"; c["architectures"] = new[] { "GPT2LMHeadModel" }; });
        }

        var e = await Assert.ThrowsAsync<ModelConversionException>(() => ModelConverter.ConvertHuggingFaceAsync(temp.Combine("hf"), temp.Combine("out")));

        Assert.Contains("unsupported architecture 'gpt2'", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.Combine("out")));
    }

    [Fact]
    public async Task ConvertHuggingFace_ShapeMismatch_ThrowsNamingTensor()
    {
        using var temp = new TempDirectory();
        using (var source = HuggingFaceConversionTests.Source(ModelArchitecture.Llama))
        {
            HuggingFaceFolder.Write(temp.Combine("hf"), source, editConfig: c => c["intermediate_size"] = 128);
        }

        var e = await Assert.ThrowsAsync<ModelConversionException>(() => ModelConverter.ConvertHuggingFaceAsync(temp.Combine("hf"), temp.Combine("out")));

        Assert.Contains("mlp.down_proj.weight has shape [64, 96], but config.json implies [64, 128]", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.Combine("out")));
    }

    [Fact]
    public async Task ConvertHuggingFace_MissingTokenizer_Throws()
    {
        using var temp = new TempDirectory();
        using (var source = HuggingFaceConversionTests.Source(ModelArchitecture.Qwen2))
        {
            HuggingFaceFolder.Write(temp.Combine("hf"), source, writeTokenizer: false);
        }

        var e = await Assert.ThrowsAsync<ModelConversionException>(() => ModelConverter.ConvertHuggingFaceAsync(temp.Combine("hf"), temp.Combine("out")));

        Assert.Contains("tokenizer.json is missing", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.Combine("out")));
    }

    [Fact]
    public async Task ConvertHuggingFace_TruncatedSafetensors_Throws()
    {
        using var temp = new TempDirectory();
        using (var source = HuggingFaceConversionTests.Source(ModelArchitecture.Llama))
        {
            HuggingFaceFolder.Write(temp.Combine("hf"), source);
        }

        string weights = temp.Combine("hf/model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes.AsSpan(0, bytes.Length - 1000).ToArray());

        var e = await Assert.ThrowsAsync<ModelConversionException>(() => ModelConverter.ConvertHuggingFaceAsync(temp.Combine("hf"), temp.Combine("out")));

        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.Combine("out")));
    }

    [Fact]
    public async Task ConvertHuggingFace_NotAModelFolder_Throws()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.Combine("readme.txt"), "hello");

        var e = await Assert.ThrowsAsync<ModelConversionException>(() => ModelConverter.ConvertHuggingFaceAsync(temp.Path, temp.Combine("out")));

        Assert.Contains("config.json is missing", e.Message, StringComparison.Ordinal);
    }

    private sealed class SynchronousProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
