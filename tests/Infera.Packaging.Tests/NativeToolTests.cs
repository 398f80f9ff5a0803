using System.IO.Compression;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Xml.Linq;

namespace Infera.Tests;

/// <summary>
/// The natively compiled tool package of this platform (<c>dotnet pack src/Infera.Cli -p:InferaPrecompiledTool=true
/// -p:InferaNativeTool=true -r RID</c>), packed from a copy of the sources so that the test run's own build outputs are not
/// touched, then run from the package: the built-in model's golden story, JSON output, and a served request on both APIs.
/// </summary>
public sealed class NativeToolTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("infera-native-tool-").FullName;

    private static string ExecutableName => OperatingSystem.IsWindows() ? "Infera.Cli.exe" : "Infera.Cli";

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task NativeToolPackage_ThisPlatform_IsOneExecutableThatTellsTheGoldenStoryAndServes()
    {
        var rid = RuntimeInformation.RuntimeIdentifier;
        var sources = Path.Combine(_root, "repo");
        CopySources(TestModels.RepositoryRoot, sources);
        var packages = Path.Combine(_root, "packages");
        var defaultModel = TestModels.Get(TestModels.Stories260K);
        var (exitCode, output) = await ProcessRunner.RunAsync(
            "dotnet",
            $"pack src/Infera.Cli -c Release -r {rid} -p:InferaPrecompiledTool=true -p:InferaNativeTool=true -p:InferaDefaultModelDirectory=\"{defaultModel}\" -p:EnableSourceLink=false -o \"{packages}\"",
            sources,
            TimeSpan.FromMinutes(12));
        Assert.True(exitCode == 0, $"packing the native tool failed:\n{output}");

        var package = Path.Combine(packages, $"Infera.Cli.{rid}.0.1.0.nupkg");
        var tool = Path.Combine(_root, "tool");
        using (var archive = ZipFile.OpenRead(package))
        {
            var files = archive.Entries.Select(e => e.FullName).Where(n => n.StartsWith($"tools/any/{rid}/", StringComparison.Ordinal)).Select(n => n[$"tools/any/{rid}/".Length..]).ToArray();
            Assert.Contains(ExecutableName, files);
            Assert.Contains("DotnetToolSettings.xml", files);
            Assert.Contains(files, f => f.StartsWith("libonnxruntime-genai", StringComparison.Ordinal));
            Assert.DoesNotContain(files, f => f.EndsWith(".dll", StringComparison.Ordinal) || f.EndsWith(".pdb", StringComparison.Ordinal) || f.EndsWith(".dbg", StringComparison.Ordinal));
            Assert.Contains("THIRD-PARTY-NOTICES/stories260K-LICENSE.txt", archive.Entries.Select(e => e.FullName));
            var nuspec = XDocument.Load(archive.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
            Assert.Contains(nuspec.Descendants(), e => e.Name.LocalName == "packageType" && (string?)e.Attribute("name") == "DotnetToolRidPackage");
            using var settings = archive.GetEntry($"tools/any/{rid}/DotnetToolSettings.xml")!.Open();
            var command = XDocument.Load(settings).Descendants("Command").Single();
            Assert.Equal("infera", (string?)command.Attribute("Name"));
            Assert.Equal(ExecutableName, (string?)command.Attribute("EntryPoint"));
            Assert.Equal("executable", (string?)command.Attribute("Runner"));
            archive.ExtractToDirectory(tool);
        }

        var executable = Path.Combine(tool, "tools", "any", rid, ExecutableName);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(executable, File.GetUnixFileMode(executable) | UnixFileMode.UserExecute);
        }

        var environment = new Dictionary<string, string> { ["XDG_CACHE_HOME"] = Path.Combine(_root, "cache"), ["INFERA_HOME"] = Path.Combine(_root, "home") };

        // No JIT and no managed runtime: the executable is the whole tool. With no model it converts the built-in
        // stories260K and tells llama2.c's golden story (252 tokens after the prompt, as GenerateCommandTests checks the portable tool).
        var (exit, stdout, stderr) = await InferaTool.RunAsync("generate --prompt \"Once upon a time\" --max-tokens 252 --temperature 0", environment: environment, executable: executable);
        Assert.True(exit == 0, stderr);
        var golden = File.ReadAllText(Path.Combine(defaultModel, "golden-once-upon-a-time.txt"));
        Assert.Equal(golden.TrimEnd('\n'), "Once upon a time" + stdout.TrimEnd('\n'));

        // JSON from source-generated metadata (reflection-based JSON does not exist in a native executable).
        (exit, stdout, stderr) = await InferaTool.RunAsync($"generate --model \"{TestModels.Get(TestModels.Stories260KOnnx)}\" --prompt \"Once upon a time\" --max-tokens 8 --json --logprobs 2", environment: environment, executable: executable);
        Assert.True(exit == 0, stderr);
        using (var json = JsonDocument.Parse(stdout))
        {
            Assert.Equal(8, json.RootElement.GetProperty("completionTokens").GetInt32());
            Assert.Equal(2, json.RootElement.GetProperty("logprobs")[0].GetProperty("topLogprobs").GetArrayLength());
        }

        // The server: OpenAI's and Ollama's endpoints, and a wrong-typed field answered 400 naming it.
        await using (var server = await ServeProcess.StartAsync($"serve --model \"{TestModels.Get(TestModels.Stories260KGqa)}\" --port 0", environment, executable))
        {
            using var http = new HttpClient { BaseAddress = server.Url };
            using var chat = await http.PostAsJsonAsync("/v1/chat/completions", new { model = "stories260K-gqa", max_tokens = 6, temperature = 0, messages = new[] { new { role = "user", content = "Once upon a time" } } });
            Assert.True(chat.IsSuccessStatusCode, await chat.Content.ReadAsStringAsync());
            using (var body = JsonDocument.Parse(await chat.Content.ReadAsStringAsync()))
            {
                Assert.Equal(6, body.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
                Assert.False(string.IsNullOrEmpty(body.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()));
            }

            using var ollama = await http.PostAsJsonAsync("/api/generate", new { model = "stories260K-gqa", prompt = "Once upon a time", stream = false, options = new { num_predict = 4, temperature = 0 } });
            Assert.True(ollama.IsSuccessStatusCode, await ollama.Content.ReadAsStringAsync());
            using (var body = JsonDocument.Parse(await ollama.Content.ReadAsStringAsync()))
            {
                Assert.True(body.RootElement.GetProperty("done").GetBoolean());
                Assert.Equal(4, body.RootElement.GetProperty("eval_count").GetInt32());
            }

            using var wrong = await http.PostAsync("/v1/chat/completions", new StringContent("""{"model":"stories260K-gqa","messages":[{"role":"user","content":"x"}],"min_p":"x"}""", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, wrong.StatusCode);
            using (var body = JsonDocument.Parse(await wrong.Content.ReadAsStringAsync()))
            {
                Assert.Equal("min_p", body.RootElement.GetProperty("error").GetProperty("param").GetString());
            }
        }
    }

    /// <summary>Copies what packing the tool reads (sources and build settings), without build outputs.</summary>
    private static void CopySources(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from))
        {
            var name = Path.GetFileName(file);
            if (name.EndsWith(".props", StringComparison.Ordinal) || name.EndsWith(".targets", StringComparison.Ordinal) || name is "global.json" or "NuGet.config" or "nuget.config" or ".editorconfig" or "README.md" or "LICENSE" or "icon.png")
            {
                Directory.CreateDirectory(to);
                File.Copy(file, Path.Combine(to, name));
            }
        }

        CopyTree(Path.Combine(from, "src"), Path.Combine(to, "src"));
        CopyTree(Path.Combine(from, "nuget"), Path.Combine(to, "nuget"));
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (var directory in Directory.GetDirectories(from))
        {
            var name = Path.GetFileName(directory);
            if (name is not ("bin" or "obj"))
            {
                CopyTree(directory, Path.Combine(to, name));
            }
        }
    }
}
