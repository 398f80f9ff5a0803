using System.Text.RegularExpressions;

namespace Infera.Tests;

/// <summary>
/// Packs the whole solution once, as the README does (<c>dotnet pack Sdk.sln</c>), with a version unique to this run,
/// into one folder. The solution is already built by the test run (this project references every packable project), so
/// the packing step runs with <c>--no-build</c> in the test run's configuration instead of building everything again in
/// Release; the set of packages comes from the solution, not from a list here.
/// </summary>
public sealed partial class PackagesFixture : IAsyncLifetime
{
    /// <summary>Gets the library packages (everything but the <c>infera</c> tool).</summary>
    public static string[] LibraryIds => [.. PackableProjects().Where(id => id != ToolId)];

    public const string ToolId = "Infera.Cli";

    public string Folder { get; } = Directory.CreateTempSubdirectory("infera-packages-").FullName;

    public string Version { get; } = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";

    /// <summary>Gets the output of <c>dotnet pack</c>.</summary>
    public string Output { get; private set; } = string.Empty;

    /// <summary>The package ids of the solution's packable projects: those under src/ (src/Directory.Build.props makes
    /// them packable; tests, samples and benchmarks are not), each named by its project file.</summary>
    public static string[] PackableProjects() =>
        [.. ProjectPath().Matches(File.ReadAllText(Path.Combine(TestModels.RepositoryRoot, "Sdk.sln")))
            .Select(m => m.Groups[1].Value.Replace('\\', '/'))
            .Where(p => p.StartsWith("src/", StringComparison.Ordinal))
            .Select(Path.GetFileNameWithoutExtension)
            .Order(StringComparer.Ordinal)!];

    public async Task InitializeAsync()
    {
        var (exitCode, output) = await ProcessRunner.RunAsync("dotnet", $"pack Sdk.sln --no-build -c {Configuration} -o \"{Folder}\" -p:PackageVersion={Version}", TestModels.RepositoryRoot, TimeSpan.FromMinutes(8));
        Output = output;
        Assert.True(exitCode == 0, $"dotnet pack Sdk.sln failed:\n{output}");
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

    [GeneratedRegex(@"^Project\(""\{[^}]+\}""\) = ""[^""]+"", ""([^""]+\.csproj)""", RegexOptions.Multiline)]
    private static partial Regex ProjectPath();
}

[CollectionDefinition(Name)]
public sealed class PackagesCollection : ICollectionFixture<PackagesFixture>
{
    public const string Name = "Packed packages";
}
