using Infera.Tests;
using Microsoft.Extensions.AI;

namespace Infera.Models.Tests;

/// <summary>Create from Modelfiles, copy, remove, list and show; no Hub involved.</summary>
public sealed class ModelLibraryNamingTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("infera-models-naming-").FullName;
    private readonly ModelLibrary _library;

    public ModelLibraryNamingTests()
    {
        _library = new ModelLibrary(new ModelLibraryOptions
        {
            RootDirectory = Path.Combine(_root, "infera"),
            Hub = new HuggingFaceHubOptions { Endpoint = new Uri("http://127.0.0.1:9"), CacheDirectory = Path.Combine(_root, "hf"), Offline = true },
        });
    }

    private static string Folder => TestModels.Get(TestModels.Stories260KOnnx);

    public void Dispose()
    {
        _library.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task CreateAsync_FromFolderWithParameters_DefaultsApplyInTheChatClient()
    {
        await _library.CreateAsync("teller", $"FROM {Folder}\nPARAMETER temperature 0\nPARAMETER num_predict 40\nPARAMETER stop girl\n");

        using var client = await _library.LoadChatClientAsync("teller");
        var response = await client.GetResponseAsync("Once upon a time");

        // Greedy (temperature 0 from the Modelfile) follows the llama2.c golden text until the Modelfile's stop sequence.
        var golden = TestModels.Golden("golden-once-upon-a-time.txt");
        var expected = golden["Once upon a time".Length..golden.IndexOf("girl", StringComparison.Ordinal)];
        Assert.Equal(expected, response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
    }

    [Fact]
    public async Task CreateAsync_NumPredict_LimitsTheReplyUnlessTheCallerSetsALimit()
    {
        await _library.CreateAsync("short", $"FROM {Folder}\nPARAMETER temperature 0\nPARAMETER num_predict 3\n");

        using var client = await _library.LoadChatClientAsync("short");
        var limited = await client.GetResponseAsync("Once upon a time");
        var longer = await client.GetResponseAsync("Once upon a time", new ChatOptions { MaxOutputTokens = 6 });

        Assert.Equal(3, limited.Usage!.OutputTokenCount);
        Assert.Equal(6, longer.Usage!.OutputTokenCount);
    }

    [Fact]
    public async Task CreateAsync_Template_ReplacesTheModelsChatTemplate()
    {
        const string template = "{% for message in messages %}{{ message['content'] }}{% endfor %}";
        await _library.CreateAsync("templated", $"FROM {Folder}\nTEMPLATE \"\"\"{template}\"\"\"\n");

        using var client = await _library.LoadChatClientAsync("templated");
        var runner = (IModelRunner)client.GetService(typeof(IModelRunner))!;

        Assert.Equal(template, runner.Tokenizer.ChatTemplate);
        Assert.Equal(template, (await _library.ShowAsync("templated")).ChatTemplate);
    }

    [Fact]
    public async Task CreateAsync_FromLibraryModel_InheritsAndOverridesDefaults()
    {
        await _library.CreateAsync("base", $"FROM {Folder}\nPARAMETER temperature 0.5\nPARAMETER top_k 20\nSYSTEM Be brief.\nLICENSE MIT\n");

        var derived = await _library.CreateAsync("derived:v2", "FROM base\nPARAMETER temperature 0.9\n");

        Assert.Equal("derived:v2", derived.Name);
        Assert.Equal((await _library.ShowAsync("base")).ModelDirectory, derived.ModelDirectory);
        Assert.Equal(0.9f, derived.Manifest.Parameters!.Temperature);
        Assert.Equal(20, derived.Manifest.Parameters.TopK);
        Assert.Equal("Be brief.", derived.Manifest.System);
        Assert.Equal("MIT", derived.Manifest.License);
        Assert.Equal("base:latest", derived.Manifest.Source.From);
    }

    [Fact]
    public async Task CreateAsync_NameExists_FailsUnlessOverwrite()
    {
        await _library.CreateAsync("same", $"FROM {Folder}\n");

        var error = await Assert.ThrowsAsync<ModelLibraryException>(() => _library.CreateAsync("same", $"FROM {Folder}\nPARAMETER seed 1\n"));
        var replaced = await _library.CreateAsync("same", $"FROM {Folder}\nPARAMETER seed 1\n", new ModelCreateOptions { Overwrite = true });

        Assert.Contains("already exists", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, replaced.Manifest.Parameters!.Seed);
    }

    [Theory]
    [InlineData("FROM {0}\nTEMPLATE \"\"\"{{{{ .System }}}} {{{{ .Prompt }}}}\"\"\"\n", "Go template")]
    [InlineData("PARAMETER temperature 0\n", "no FROM")]
    [InlineData("FROM nothing-like-this\n", "no model of that name")]
    [InlineData("FROM ./no/such/folder\n", "no such folder")]
    [InlineData("FROM {0}\nPARAMETER temperature hot\n", "line 2")]
    public async Task CreateAsync_BadModelfile_ClearErrorAndNothingCreated(string modelfile, string message)
    {
        var error = await Assert.ThrowsAsync<ModelLibraryException>(() => _library.CreateAsync("bad", string.Format(System.Globalization.CultureInfo.InvariantCulture, modelfile, Folder)));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Empty(await _library.ListAsync());
    }

    [Fact]
    public async Task CopyAndRemove_NamesShareTheFolderUntilTheLastIsRemoved()
    {
        var original = await _library.CreateAsync("one", $"FROM {Folder}\n");
        var copy = await _library.CopyAsync("one", "two:copy");

        Assert.Equal(original.ModelDirectory, copy.ModelDirectory);
        Assert.Equal(["one:latest", "two:copy"], (await _library.ListAsync()).Select(m => m.Name));
        await Assert.ThrowsAsync<ModelLibraryException>(() => _library.CopyAsync("one", "two:copy"));
        await Assert.ThrowsAsync<ModelNotFoundException>(() => _library.CopyAsync("missing", "three"));

        Assert.True(await _library.RemoveAsync("one"));
        Assert.True(Directory.Exists(copy.ModelDirectory));
        Assert.False(await _library.RemoveAsync("one"));
        Assert.True(await _library.RemoveAsync("two:copy"));
        Assert.False(Directory.Exists(copy.ModelDirectory));
        Assert.Empty(await _library.ListAsync());
    }

    [Fact]
    public async Task ShowAsync_ModelfileRoundTrips()
    {
        await _library.CreateAsync("shown", $"FROM {Folder}\nPARAMETER temperature 0.25\nPARAMETER stop \"<|end|>\"\nPARAMETER stop User:\nSYSTEM \"\"\"Line one.\nLine two.\"\"\"\n");
        var shown = await _library.ShowAsync("shown");

        var text = shown.ToModelfile().ToString();
        var again = await _library.CreateAsync("again", text);

        Assert.Equal(shown.ModelDirectory, again.ModelDirectory);
        Assert.Equal(shown.Manifest.Parameters!.Temperature, again.Manifest.Parameters!.Temperature);
        Assert.Equal(["<|end|>", "User:"], again.Manifest.Parameters.Stop);
        Assert.Equal("Line one.\nLine two.", again.Manifest.System);
        Assert.Equal("llama", shown.Manifest.Architecture);
        Assert.Equal(512, shown.Manifest.ContextLength);
    }
}
