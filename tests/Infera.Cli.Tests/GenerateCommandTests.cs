using System.Text.Json;

namespace Infera.Tests;

public sealed class GenerateCommandTests
{
    private static string Model => TestModels.Get(TestModels.Stories260KOnnx);

    [Fact]
    public async Task Generate_Greedy_PrintsOnlyTheCompletionAndStatsOnStderr()
    {
        var (exit, stdout, stderr) = await InferaTool.RunAsync($"generate --model \"{Model}\" --prompt \"Once upon a time\" --max-tokens 20 --temperature 0");

        Assert.Equal(0, exit);
        Assert.StartsWith(", there was a little girl named Lily", stdout);
        Assert.DoesNotContain("Once upon a time", stdout);
        Assert.Contains("prompt tokens: 5", stderr);
        Assert.Contains("generated tokens: 20", stderr);
        Assert.Contains("time to first token", stderr);
        Assert.Contains("tokens/s", stderr);
    }

    [Fact]
    public async Task Generate_Json_PrintsOneObjectWithTheDocumentedFields()
    {
        var (exit, stdout, _) = await InferaTool.RunAsync($"generate --model \"{Model}\" --max-tokens 12 --temperature 0 --json");

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.StartsWith(", there was", root.GetProperty("text").GetString());
        Assert.Equal(5, root.GetProperty("promptTokens").GetInt32());
        Assert.Equal(12, root.GetProperty("completionTokens").GetInt32());
        Assert.Equal("length", root.GetProperty("finishReason").GetString());
        Assert.True(root.GetProperty("timeToFirstTokenMs").GetDouble() > 0);
        Assert.True(root.GetProperty("decodeTokensPerSecond").GetDouble() > 0);
    }

    [Fact]
    public async Task Generate_StopSequence_EndsBeforeItWithFinishStop()
    {
        var (exit, stdout, _) = await InferaTool.RunAsync($"generate --model \"{Model}\" --max-tokens 40 --temperature 0 --stop \"little girl\" --json");

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(", there was a ", json.RootElement.GetProperty("text").GetString());
        Assert.Equal("stop", json.RootElement.GetProperty("finishReason").GetString());
    }

    [Fact]
    public async Task Generate_LogProbs_ReportsThemInJson()
    {
        var (exit, stdout, _) = await InferaTool.RunAsync($"generate --model \"{Model}\" --max-tokens 4 --temperature 0 --logprobs 3 --json");

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(stdout);
        var logprobs = json.RootElement.GetProperty("logprobs");
        Assert.Equal(4, logprobs.GetArrayLength());
        Assert.Equal(3, logprobs[0].GetProperty("topLogprobs").GetArrayLength());
        Assert.True(logprobs[0].GetProperty("logprob").GetDouble() <= 0);
    }

    [Fact]
    public async Task Generate_SameSeed_SameText()
    {
        var arguments = $"generate --model \"{Model}\" --max-tokens 30 --temperature 1 --seed 99";

        var first = await InferaTool.RunAsync(arguments);
        var second = await InferaTool.RunAsync(arguments);

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(first.Stdout, second.Stdout);
    }

    [Theory]
    [InlineData("generate --model /no/such/folder", "does not exist")]
    [InlineData("generate --model MODEL --temperature 5", "Temperature")]
    [InlineData("generate --model MODEL --top-p 0", "TopP")]
    [InlineData("generate --model MODEL --max-tokens 0", "MaxNewTokens")]
    [InlineData("generate --model MODEL --provider tpu", "Unknown execution provider")]
    [InlineData("generate --model MODEL --provider cuda", "onnxruntime-genai-cuda")]
    [InlineData("generate --model MODEL --max-tokens 9999", "context length")]
    public async Task Generate_BadInput_OneClearLineOnStderrAndNonZeroExit(string arguments, string expected)
    {
        var (exit, stdout, stderr) = await InferaTool.RunAsync(arguments.Replace("MODEL", $"\"{Model}\"", StringComparison.Ordinal));

        Assert.NotEqual(0, exit);
        Assert.Equal(string.Empty, stdout.Trim());
        var lines = stderr.Trim().Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("infera: error: ", lines[0]);
        Assert.Contains(expected, lines[0]);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public async Task Generate_BrokenGenAIConfig_OneClearLine()
    {
        var folder = Directory.CreateTempSubdirectory("infera-cli-").FullName;
        try
        {
            foreach (var file in Directory.GetFiles(Model))
            {
                File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
            }

            await File.WriteAllTextAsync(Path.Combine(folder, "genai_config.json"), "{ not json");
            var (exit, _, stderr) = await InferaTool.RunAsync($"generate --model \"{folder}\"");

            Assert.NotEqual(0, exit);
            Assert.Contains("genai_config.json", stderr);
            Assert.Single(stderr.Trim().Split('\n'));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Generate_NoModel_ConvertsTheEmbeddedStories260KOnceAndTellsTheLlama2CGoldenStory()
    {
        var cache = Directory.CreateTempSubdirectory("infera-cache-").FullName;
        try
        {
            var environment = new Dictionary<string, string> { ["XDG_CACHE_HOME"] = cache };
            var (exit, stdout, stderr) = await InferaTool.RunAsync("generate --prompt \"Once upon a time\" --max-tokens 252 --temperature 0", environment: environment);

            Assert.True(exit == 0, stderr);
            Assert.Contains("built-in stories260K model", stderr);
            string golden = File.ReadAllText(Path.Combine(TestModels.Get(TestModels.Stories260K), "golden-once-upon-a-time.txt"));
            // llama2.c's golden run (-n 256) prints 252 tokens after BOS and the 4 prompt tokens.
            Assert.Equal(golden.TrimEnd('\n'), "Once upon a time" + stdout.TrimEnd('\n'));

            var folder = Assert.Single(Directory.GetDirectories(Path.Combine(cache, "infera", "models")));
            Assert.Contains("MIT License", File.ReadAllText(Path.Combine(folder, "LICENSE-stories260K.txt")));
            var converted = File.GetLastWriteTimeUtc(Path.Combine(folder, "model.onnx"));

            var (again, _, againErr) = await InferaTool.RunAsync("generate --max-tokens 4", environment: environment);

            Assert.True(again == 0, againErr);
            Assert.Single(Directory.GetFileSystemEntries(Path.Combine(cache, "infera", "models")));
            Assert.Equal(converted, File.GetLastWriteTimeUtc(Path.Combine(folder, "model.onnx")));
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }
}

public sealed class OtherCommandTests
{
    [Fact]
    public async Task Providers_ListsEveryProviderWithItsAvailability()
    {
        var (exit, stdout, _) = await InferaTool.RunAsync("providers");

        Assert.Equal(0, exit);
        Assert.Matches(@"(?m)^cpu\s+available", stdout);
        Assert.Matches(@"(?m)^cuda\s+not available: .*onnxruntime-genai-cuda", stdout);
        Assert.Matches(@"(?m)^directml\s+not available: .*Windows", stdout);
        Assert.Matches(@"(?m)^coreml\s+not available: .*macOS", stdout);
    }

    [Fact]
    public async Task BenchGenerate_Json_ReportsMedians()
    {
        var (exit, stdout, stderr) = await InferaTool.RunAsync($"bench generate --model \"{TestModels.Get(TestModels.Stories260KGqa)}\" --max-tokens 16 --runs 2 --json");

        Assert.True(exit == 0, stderr);
        using var json = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.True(json.RootElement.GetProperty("timeToFirstTokenMs").GetDouble() > 0);
        Assert.True(json.RootElement.GetProperty("prefillTokensPerSecond").GetDouble() > 0);
        Assert.True(json.RootElement.GetProperty("decodeTokensPerSecond").GetDouble() > 0);
        Assert.Equal(16, json.RootElement.GetProperty("completionTokens").GetInt32());
        Assert.True(json.RootElement.GetProperty("steadyDecodeTokensPerSecond").GetDouble() > 0);
        Assert.Equal(1, json.RootElement.GetProperty("warmupRuns").GetInt32());
    }

    [Fact]
    public async Task BenchGenerate_BaselineAndThreads_ReportsTheRatioAndTheChosenThreads()
    {
        var (exit, stdout, stderr) = await InferaTool.RunAsync($"bench generate --model \"{TestModels.Get(TestModels.Stories260KOnnx)}\" --max-tokens 16 --runs 2 --threads 2 --baseline --json");

        Assert.True(exit == 0, stderr);
        using var json = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.Equal(2, json.RootElement.GetProperty("threads").GetInt32());
        Assert.Contains("IntraOpThreads", json.RootElement.GetProperty("threadsReason").GetString());
        Assert.Equal(16, json.RootElement.GetProperty("baselineCompletionTokens").GetInt32());
        Assert.True(json.RootElement.GetProperty("decodeRatio").GetDouble() > 0);
        Assert.True(json.RootElement.GetProperty("steadyDecodeRatio").GetDouble() > 0);
        Assert.True(json.RootElement.GetProperty("baselineSteadyDecodeTokensPerSecond").GetDouble() > 0);
        Assert.Equal(2, json.RootElement.GetProperty("decodeRatioQuartiles").GetArrayLength());
        Assert.True(json.RootElement.TryGetProperty("overheadMicrosecondsPerToken", out _));
        Assert.Equal(10, json.RootElement.GetProperty("warmupRuns").GetInt32());
    }

    [Fact]
    public async Task Generate_DefaultThreadsOnSmallModel_ReportsOneThread()
    {
        var (exit, _, stderr) = await InferaTool.RunAsync($"generate --model \"{TestModels.Get(TestModels.Stories260KOnnx)}\" --max-tokens 4 --temperature 0");

        Assert.True(exit == 0, stderr);
        Assert.Contains("(cpu, 1 thread)", stderr);
    }

    [Fact]
    public async Task Chat_KeepsTheConversationAndStreamsReplies()
    {
        var (exit, stdout, stderr) = await InferaTool.RunAsync($"chat --model \"{TestModels.Get(TestModels.Stories260KOnnx)}\" --max-tokens 8 --temperature 0", stdin: "Once upon a time\nThe end.\n/exit\n");

        Assert.True(exit == 0, stderr);
        Assert.Equal(3, stdout.Split("> ").Length - 1);
        Assert.Contains("infera chat", stderr);
    }

    [Fact]
    public async Task Generate_OnLinux_LeavesOnnxRuntimeTelemetryOffUnlessTheProcessSetsIt()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var cache = Directory.CreateTempSubdirectory("infera-telemetry-").FullName;
        try
        {
            // ONNX Runtime 1.31 keeps its telemetry stores under $XDG_CACHE_HOME/Microsoft/DeveloperTools/.onnxruntime.
            var store = Path.Combine(cache, "Microsoft", "DeveloperTools");
            var command = $"generate --model \"{TestModels.Get(TestModels.Stories260KOnnx)}\" --max-tokens 3";
            var environment = new Dictionary<string, string> { ["XDG_CACHE_HOME"] = cache };

            // ONNX Runtime also stays quiet on its own where these say a CI service runs the process: not this test's subject.
            string[] ciVariables = ["CI", "TF_BUILD", "GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI", "TRAVIS", "JENKINS_URL", "CODEBUILD_BUILD_ID", "BUILDKITE", "TEAMCITY_VERSION", "APPVEYOR", "BITBUCKET_BUILD_NUMBER"];

            var (exit, _, stderr) = await InferaTool.RunAsync(command, environment: environment, unset: [.. ciVariables, "ORT_DISABLE_TELEMETRY"]);

            Assert.True(exit == 0, stderr);
            Assert.False(Directory.Exists(store), "ONNX Runtime's telemetry store was created");

            // A process that sets the variable keeps its choice: with 0, ONNX Runtime's uploader starts and keeps its store.
            environment["ORT_DISABLE_TELEMETRY"] = "0";
            var (exitOn, _, stderrOn) = await InferaTool.RunAsync(command, environment: environment, unset: ciVariables);

            Assert.True(exitOn == 0, stderrOn);
            Assert.True(Directory.Exists(store), "with ORT_DISABLE_TELEMETRY=0 ONNX Runtime created no telemetry store");
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }
}
