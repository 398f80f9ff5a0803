namespace Infera.Tests;

/// <summary>Packs every shipped package once, with a version unique to this run, into one folder.</summary>
public sealed class PackagesFixture : IAsyncLifetime
{
    public static readonly string[] PackageIds = ["Infera.Abstractions", "Infera.Numerics", "Infera", "Infera.Cpu", "Infera.Cuda", "Infera.DirectML", "Infera.CoreML"];

    public string Folder { get; } = Directory.CreateTempSubdirectory("infera-packages-").FullName;

    public string Version { get; } = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";

    public async Task InitializeAsync()
    {
        foreach (var id in PackageIds)
        {
            var project = Path.Combine(TestModels.RepositoryRoot, "src", id, id + ".csproj");
            var (exitCode, output) = await ProcessRunner.RunAsync("dotnet", $"pack \"{project}\" --no-build -o \"{Folder}\" -c {Configuration} -p:PackageVersion={Version}", TestModels.RepositoryRoot, TimeSpan.FromMinutes(5));
            Assert.True(exitCode == 0, $"dotnet pack {id} failed:\n{output}");
        }
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Folder, recursive: true);
        return Task.CompletedTask;
    }

#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    public string PackagePath(string id) => Path.Combine(Folder, $"{id}.{Version}.nupkg");
}

[CollectionDefinition(Name)]
public sealed class PackagesCollection : ICollectionFixture<PackagesFixture>
{
    public const string Name = "Packed packages";
}
