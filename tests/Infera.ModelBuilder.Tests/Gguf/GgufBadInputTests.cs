using SharedModels = Infera.Tests.TestModels;

namespace Infera.ModelBuilder.Tests;

/// <summary>Damaged or unsupported GGUF files: one clear message, no output folder, no cache entry.</summary>
public sealed class GgufBadInputTests
{
    private static string Stories => Path.Combine(SharedModels.Get("stories260K-gguf"), "stories260K-f32.gguf");

    private static SyntheticGguf.Shape Small => new("llama", Hidden: 64, Intermediate: 128, Layers: 1);

    private static async Task<ModelConversionException> ImportFails(TempDirectory temp, string file)
    {
        string output = temp.Combine("out");
        var e = await Assert.ThrowsAsync<ModelConversionException>(() => ModelConverter.ConvertGgufAsync(file, output));
        Assert.False(Directory.Exists(output), "the output folder must not exist");
        Assert.Empty(Directory.GetDirectories(temp.Path, ".*"));
        Assert.DoesNotContain('\n', e.Message);

        string cache = temp.Combine("cache");
        var again = await Assert.ThrowsAsync<ModelConversionException>(() => GgufImporter.ImportAsync(file, new GgufImportOptions { CacheDirectory = cache }));
        Assert.Equal(e.Message, again.Message);
        string gguf = Path.Combine(cache, "gguf");
        Assert.True(!Directory.Exists(gguf) || Directory.GetDirectories(gguf).All(d => Path.GetFileName(d) == "hashes"), "no cache entry may be left");
        return e;
    }

    [Fact]
    public async Task ConvertGguf_TruncatedFile_SaysTruncated()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("truncated.gguf");
        File.WriteAllBytes(path, File.ReadAllBytes(Stories).AsSpan(0, 600_000).ToArray());

        var e = await ImportFails(temp, path);

        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConvertGguf_TruncatedHeader_SaysTruncated()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("header.gguf");
        File.WriteAllBytes(path, File.ReadAllBytes(Stories).AsSpan(0, 3000).ToArray());

        var e = await ImportFails(temp, path);

        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConvertGguf_WrongMagic_SaysNotGguf()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("foreign.gguf");
        File.WriteAllBytes(path, File.ReadAllBytes(Path.Combine(SharedModels.Get(SharedModels.Stories260K), "stories260K.bin")));

        var e = await ImportFails(temp, path);

        Assert.Contains("not a GGUF file", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task ConvertGguf_OldVersion_NamesVersion(int version)
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("old.gguf");
        var w = SyntheticGguf.Create(Small);
        w.Version = version;
        w.Write(path);

        var e = await ImportFails(temp, path);

        Assert.Contains($"GGUF version {version} is not supported", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConvertGguf_UnknownArchitecture_NamesIt()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("gemma.gguf");
        SyntheticGguf.Create(Small).String("general.architecture", "gemma3").Write(path);

        var e = await ImportFails(temp, path);

        Assert.Contains("unsupported architecture 'gemma3'", e.Message, StringComparison.Ordinal);
        Assert.Contains("llama, mistral, qwen2 and phi3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConvertGguf_MissingTensor_NamesIt()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("missing.gguf");
        SyntheticGguf.Create(Small).RemoveTensor("blk.0.ffn_up.weight").Write(path);

        var e = await ImportFails(temp, path);

        Assert.Contains("tensor blk.0.ffn_up.weight is missing", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConvertGguf_UnsupportedType_NamesTensorTypeAndSupportedList()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("iq.gguf");
        SyntheticGguf.Create(Small).TensorType("blk.0.attn_k.weight", 16).Write(path);

        var e = await ImportFails(temp, path);

        Assert.Contains("tensor blk.0.attn_k.weight has type IQ2_XXS", e.Message, StringComparison.Ordinal);
        Assert.Contains("F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K", e.Message, StringComparison.Ordinal);
    }
}
