namespace Infera.Tests;

/// <summary>The path the README gives a newcomer: a brand-new console app outside the repository adds Infera.Cpu from the packed folder and streams a completion.</summary>
[Collection(PackagesCollection.Name)]
public sealed class NewcomerTests(PackagesFixture packages) : IDisposable
{
    private readonly string _app = Directory.CreateTempSubdirectory("infera-newcomer-").FullName;

    public void Dispose() => Directory.Delete(_app, recursive: true);

    [Fact]
    public async Task NewConsoleApp_AddPackageInferaCpu_StreamsFromASharedModel()
    {
        var model = TestModels.Get(TestModels.Stories260KOnnx);
        await Run("dotnet", "new console --framework net10.0 --name NewcomerApp --output .");
        await Run("dotnet", $"add package Infera.Cpu --source \"{packages.Folder}\" --version {packages.Version}");
        await File.WriteAllTextAsync(Path.Combine(_app, "Program.cs"), """
            using Infera;
            using Microsoft.Extensions.AI;

            using IChatClient client = await InferaChatClient.LoadAsync(args[0]);
            await foreach (var update in client.GetStreamingResponseAsync("Once upon a time", new ChatOptions { Temperature = 0, MaxOutputTokens = 24 }))
            {
                Console.Write(update.Text);
            }
            """);

        var output = await Run("dotnet", $"run -- \"{model}\"");

        Assert.Contains(", there was a little girl named Lily", output);
    }

    private async Task<string> Run(string file, string arguments)
    {
        var (exitCode, output) = await ProcessRunner.RunAsync(file, arguments, _app, TimeSpan.FromMinutes(5));
        Assert.True(exitCode == 0, $"'{file} {arguments}' exited with {exitCode}:\n{output}");
        return output;
    }
}
