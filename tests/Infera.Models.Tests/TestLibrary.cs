using Infera.Tests;

namespace Infera.Models.Tests;

/// <summary>A library and Hub cache in a fresh temporary folder, talking to a fake Hub with short retry delays.</summary>
internal sealed class TestLibrary : IDisposable
{
    public TestLibrary(FakeHub hub, string? token = null)
    {
        Root = Directory.CreateTempSubdirectory("infera-models-test-").FullName;
        HubOptions = new HuggingFaceHubOptions
        {
            Endpoint = hub.Endpoint,
            CacheDirectory = Path.Combine(Root, "hf", "hub"),
            Token = token,
            RetryDelay = TimeSpan.FromMilliseconds(10),
            MaxRetryAttempts = 3,
            MetadataTimeout = TimeSpan.FromSeconds(30),
            DownloadTimeout = TimeSpan.FromSeconds(30),
        };
        Library = new ModelLibrary(new ModelLibraryOptions { RootDirectory = Path.Combine(Root, "infera"), Hub = HubOptions });
    }

    public string Root { get; }

    public HuggingFaceHubOptions HubOptions { get; }

    public ModelLibrary Library { get; }

    public string Cache => HubOptions.CacheDirectory;

    public static string SharedModel(string name) => TestModels.Get(name);

    /// <summary>Every file under the library's models/ folder and manifests/ folder (what a reader could load).</summary>
    public string[] LibraryEntries()
    {
        var root = Library.RootDirectory;
        return [.. new[] { "manifests", "models" }.Select(f => Path.Combine(root, f)).Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFileSystemEntries(d, "*", SearchOption.AllDirectories))
            .Select(p => Path.GetRelativePath(root, p))];
    }

    public void Dispose()
    {
        Library.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
