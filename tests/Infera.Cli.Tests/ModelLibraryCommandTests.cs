using System.Text.Json;
using Infera.Models.Tests;

namespace Infera.Tests;

/// <summary>infera pull, list, show, cp, rm, create and --model NAME, against a fresh INFERA_HOME and a loopback fake Hub.</summary>
public sealed class ModelLibraryCommandTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("infera-cli-library-").FullName;
    private FakeHub _hub = null!;

    private static string Folder => TestModels.Get(TestModels.Stories260KOnnx);

    public async Task InitializeAsync()
    {
        _hub = await FakeHub.StartAsync();
        _hub.AddRepo("test-org/stories").AddFolder(Folder);
        _hub.AddRepo("test-org/gated", gated: true).AddFolder(Folder);
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task PullThenGenerateByName_RunsThePulledModel()
    {
        var (exit, stdout, stderr) = await RunAsync("pull test-org/stories");
        Assert.True(exit == 0, stderr);
        Assert.Contains("pulled test-org/stories:latest", stdout, StringComparison.Ordinal);
        Assert.Contains("pulling manifest", stderr, StringComparison.Ordinal);
        Assert.Contains("success", stderr, StringComparison.Ordinal);
        Assert.True(Directory.Exists(Path.Combine(_root, "hf", "hub", "models--test-org--stories", "snapshots")));

        (exit, stdout, stderr) = await RunAsync("generate --model test-org/stories --prompt \"Once upon a time\" --max-tokens 8 --temperature 0");
        Assert.True(exit == 0, stderr);
        Assert.StartsWith(", there was a little girl", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pull_GatedRepoWithoutToken_OneErrorLineNamingHfToken()
    {
        var (exit, _, stderr) = await RunAsync("pull test-org/gated");

        Assert.Equal(1, exit);
        var error = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("infera: error:", StringComparison.Ordinal));
        Assert.Contains("HF_TOKEN", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root, "infera", "models")));
    }

    [Fact]
    public async Task CreateListShowCopyRemove_WorkByNameAndApplyModelfileDefaults()
    {
        var modelfile = Path.Combine(_root, "Modelfile");
        await File.WriteAllTextAsync(modelfile, $"FROM {Folder}\nPARAMETER temperature 0\nPARAMETER num_predict 7\nSYSTEM Tell stories.\n");

        var (exit, _, stderr) = await RunAsync($"create teller -f \"{modelfile}\"");
        Assert.True(exit == 0, stderr);

        (exit, var stdout, stderr) = await RunAsync("generate --model teller --prompt \"Once upon a time\"");
        Assert.True(exit == 0, stderr);
        Assert.Contains("generated tokens: 7", stderr, StringComparison.Ordinal);
        Assert.StartsWith(", there was a", stdout, StringComparison.Ordinal);

        (exit, stdout, _) = await RunAsync("show teller --modelfile");
        Assert.Equal(0, exit);
        Assert.Contains("PARAMETER num_predict 7", stdout, StringComparison.Ordinal);
        Assert.Contains("SYSTEM Tell stories.", stdout, StringComparison.Ordinal);

        Assert.Equal(0, (await RunAsync("cp teller teller:copy")).ExitCode);
        (exit, stdout, _) = await RunAsync("list --json");
        Assert.Equal(0, exit);
        using (var json = JsonDocument.Parse(stdout))
        {
            Assert.Equal(["teller:copy", "teller:latest"], json.RootElement.EnumerateArray().Select(e => e.GetProperty("name").GetString()));
        }

        (exit, stdout, _) = await RunAsync("show teller:copy --json");
        Assert.Equal(0, exit);
        using (var json = JsonDocument.Parse(stdout))
        {
            Assert.Equal("llama", json.RootElement.GetProperty("architecture").GetString());
            Assert.Equal(512, json.RootElement.GetProperty("contextLength").GetInt32());
        }

        Assert.Equal(0, (await RunAsync("rm teller teller:copy")).ExitCode);
        Assert.Equal("NAME   ID   SIZE   PRECISION   SOURCE   MODIFIED", (await RunAsync("list")).Stdout.Trim());
    }

    [Fact]
    public async Task Serve_PinnedLibraryModel_AppliesModelfileDefaults()
    {
        var modelfile = Path.Combine(_root, "Modelfile");
        await File.WriteAllTextAsync(modelfile, $"FROM {Folder}\nPARAMETER temperature 0\nPARAMETER num_predict 4\nSYSTEM Tell stories.\n");
        var (exit, _, stderr) = await RunAsync($"create teller -f \"{modelfile}\"");
        Assert.True(exit == 0, stderr);

        await using var server = await ServeProcess.StartAsync("serve --port 0 --model teller", Environment());
        using var http = new HttpClient { BaseAddress = server.Url };
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent("""{"model":"teller:latest","messages":[{"role":"user","content":"Hi"}]}""", System.Text.Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        var usage = JsonDocument.Parse(body).RootElement.GetProperty("usage");
        Assert.Equal(4, usage.GetProperty("completion_tokens").GetInt32());

        using var explicitSystem = await http.PostAsync("/v1/chat/completions", new StringContent("""{"model":"teller:latest","max_tokens":4,"messages":[{"role":"system","content":"Tell stories."},{"role":"user","content":"Hi"}]}""", System.Text.Encoding.UTF8, "application/json"));
        var expected = JsonDocument.Parse(await explicitSystem.Content.ReadAsStringAsync()).RootElement.GetProperty("usage");
        Assert.Equal(expected.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("prompt_tokens").GetInt32());
    }

    [Theory]
    [InlineData("show nothing-here", "is not in the library")]
    [InlineData("rm nothing-here", "is not in the library")]
    [InlineData("cp nothing-here other", "is not in the library")]
    [InlineData("pull \"not a repo\"", "is not a Hugging Face repository id")]
    [InlineData("pull test-org/missing", "was not found")]
    [InlineData("pull test-org/stories@nope", "Revision 'nope' was not found")]
    [InlineData("pull test-org/stories --precision int3", "--precision must be")]
    [InlineData("generate --model nothing/here --prompt hi", "infera pull nothing/here")]
    [InlineData("chat --model ./no/such/folder", "does not exist")]
    public async Task BadInput_OneErrorLineAndNonZeroExit(string arguments, string message)
    {
        var (exit, _, stderr) = await RunAsync(arguments);

        Assert.Equal(1, exit);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("infera:", StringComparison.Ordinal)).ToList();
        var error = Assert.Single(lines);
        Assert.StartsWith("infera: error:", error, StringComparison.Ordinal);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_GoTemplateOrExistingName_OneErrorLine()
    {
        var modelfile = Path.Combine(_root, "Modelfile");
        await File.WriteAllTextAsync(modelfile, $"FROM {Folder}\n");
        Assert.Equal(0, (await RunAsync($"create once -f \"{modelfile}\"")).ExitCode);

        var (exit, _, stderr) = await RunAsync($"create once -f \"{modelfile}\"");
        Assert.Equal(1, exit);
        Assert.Contains("infera: error: A model named 'once:latest' already exists", stderr, StringComparison.Ordinal);

        await File.WriteAllTextAsync(modelfile, $"FROM {Folder}\nTEMPLATE {{{{ .Prompt }}}}\n");
        (exit, _, stderr) = await RunAsync($"create goish -f \"{modelfile}\"");
        Assert.Equal(1, exit);
        Assert.Contains("infera: error: Modelfile line 2: TEMPLATE is an Ollama Go template", stderr, StringComparison.Ordinal);
    }

    private Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string arguments) =>
        InferaTool.RunAsync(arguments, environment: Environment());

    private Dictionary<string, string> Environment() => new()
    {
        ["INFERA_HOME"] = Path.Combine(_root, "infera"),
        ["HF_HOME"] = Path.Combine(_root, "hf"),
        ["HF_ENDPOINT"] = _hub.Endpoint.ToString(),
        ["HF_TOKEN"] = string.Empty,
        ["HF_HUB_OFFLINE"] = string.Empty,
    };
}
