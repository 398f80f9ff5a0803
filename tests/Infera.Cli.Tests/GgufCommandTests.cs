namespace Infera.Tests;

public sealed class GgufCommandTests : IDisposable
{
    private readonly string _temp = Path.Combine(Path.GetTempPath(), "infera-cli-gguf-" + Guid.NewGuid().ToString("N"));

    public GgufCommandTests() => Directory.CreateDirectory(_temp);

    private static string Gguf => Path.Combine(TestModels.Get(TestModels.Stories260KGguf), "stories260K-f32.gguf");

    [Fact]
    public async Task Generate_GgufFile_ImportsOnceIntoTheCacheAndGenerates()
    {
        var environment = new Dictionary<string, string> { ["XDG_CACHE_HOME"] = Path.Combine(_temp, "cache") };
        string command = $"generate --model \"{Gguf}\" --prompt \"Once upon a time\" --max-tokens 20 --temperature 0";

        var (exit, stdout, stderr) = await InferaTool.RunAsync(command, environment: environment);
        string entries = Path.Combine(_temp, "cache", "infera", "models", "gguf");
        var first = Directory.GetDirectories(entries).Where(d => Path.GetFileName(d) != "hashes").ToArray();
        var written = File.GetLastWriteTimeUtc(Path.Combine(first[0], "model.onnx"));
        var (exit2, stdout2, _) = await InferaTool.RunAsync(command, environment: environment);

        Assert.True(exit == 0, stderr);
        Assert.StartsWith(", there was a little girl named Lily", stdout, StringComparison.Ordinal);
        Assert.Equal(0, exit2);
        Assert.Equal(stdout, stdout2);
        Assert.Single(first);
        Assert.Equal(first, Directory.GetDirectories(entries).Where(d => Path.GetFileName(d) != "hashes").ToArray());
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(first[0], "model.onnx")));
    }

    [Fact]
    public async Task ConvertGguf_Stories260K_WritesFolderThatGenerates()
    {
        string output = Path.Combine(_temp, "converted");

        var (exit, stdout, stderr) = await InferaTool.RunAsync($"convert gguf --input \"{Gguf}\" --output \"{output}\"");
        var (exit2, text, _) = await InferaTool.RunAsync($"generate --model \"{output}\" --prompt \"Once upon a time\" --max-tokens 12 --temperature 0");

        Assert.True(exit == 0, stderr);
        Assert.Contains("keep", stdout, StringComparison.Ordinal);
        Assert.Equal(0, exit2);
        Assert.StartsWith(", there was a little girl", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("truncated", "truncated")]
    [InlineData("magic", "not a GGUF file")]
    public async Task ConvertGguf_BadFile_OneErrorLineAndNoOutput(string damage, string expected)
    {
        string input = Path.Combine(_temp, damage + ".gguf");
        var bytes = File.ReadAllBytes(Gguf);
        File.WriteAllBytes(input, damage == "truncated" ? bytes.AsSpan(0, bytes.Length / 2).ToArray() : [.. "XXXX"u8, .. bytes.AsSpan(4)]);
        string output = Path.Combine(_temp, "out");
        var environment = new Dictionary<string, string> { ["XDG_CACHE_HOME"] = Path.Combine(_temp, "cache") };

        var (exit, _, stderr) = await InferaTool.RunAsync($"convert gguf --input \"{input}\" --output \"{output}\"");
        var (exitRun, _, stderrRun) = await InferaTool.RunAsync($"generate --model \"{input}\" --max-tokens 4", environment: environment);

        Assert.Equal(1, exit);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => !l.StartsWith('\r'));
        Assert.StartsWith("infera: error: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
        Assert.Empty(Directory.GetDirectories(_temp, ".*"));
        Assert.Equal(1, exitRun);
        Assert.Contains("infera: error: ", stderrRun, StringComparison.Ordinal);
        string entries = Path.Combine(_temp, "cache", "infera", "models", "gguf");
        Assert.True(!Directory.Exists(entries) || Directory.GetDirectories(entries).All(d => Path.GetFileName(d) == "hashes"));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_temp, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
