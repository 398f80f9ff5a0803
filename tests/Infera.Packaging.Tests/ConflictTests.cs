namespace Infera.Tests;

/// <summary>Two provider packages with conflicting native runtimes fail the build with a message naming them.</summary>
public sealed class ConflictTests : IDisposable
{
    private readonly string _project = Directory.CreateTempSubdirectory("infera-conflict-").FullName;

    public void Dispose() => Directory.Delete(_project, recursive: true);

    [Theory]
    [InlineData("Infera.Cpu", "Infera.Cuda", true)]
    [InlineData("Infera.Cuda", "Infera.DirectML", true)]
    [InlineData("Infera.Cpu", "Infera.CoreML", false)]
    public async Task Build_TwoProviderPackages_FailsOnlyWhenTheirNativeRuntimesConflict(string first, string second, bool conflict)
    {
        string Targets(string package) => Path.Combine(TestModels.RepositoryRoot, "src", package, "buildTransitive", package + ".targets");
        await File.WriteAllTextAsync(Path.Combine(_project, "App.proj"), $"""
            <Project>
              <Import Project="{Targets(first)}" />
              <Import Project="{Targets(second)}" />
              <Target Name="Build" />
            </Project>
            """);

        var (exitCode, output) = await ProcessRunner.RunAsync("dotnet", "msbuild App.proj -t:Build -nologo", _project, TimeSpan.FromMinutes(2));

        if (conflict)
        {
            Assert.NotEqual(0, exitCode);
            Assert.Contains("INFERA001", output);
            Assert.Contains(first, output);
            Assert.Contains(second, output);
            Assert.Contains("remove", output);
        }
        else
        {
            Assert.True(exitCode == 0, output);
        }
    }
}
