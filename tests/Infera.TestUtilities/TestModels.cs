namespace Infera.Tests;

/// <summary>
/// The one way tests find the shared test models: the folder named by INFERA_TEST_MODELS, or <c>../shared/models</c>
/// relative to the repository root. A missing model fails the test with a message saying where it was looked for; it never skips.
/// </summary>
public static class TestModels
{
    public const string Stories260K = "stories260K";
    public const string Stories260KOnnx = "stories260K-onnx";
    public const string Stories260KGqa = "stories260K-gqa";
    public const string Stories260KGguf = "stories260K-gguf";
    public const string TinyRandomGpt2 = "tiny-random-gpt2-fp32";
    public const string TinyRandomLlamaFp16 = "tiny-random-llama-fp16";

    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>Gets the repository root (the folder holding Sdk.sln).</summary>
    public static string RepositoryRoot
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Sdk.sln")))
            {
                directory = directory.Parent;
            }

            return directory?.FullName ?? throw new InvalidOperationException("The repository root (holding Sdk.sln) was not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Gets the folder holding the shared models.</summary>
    public static string Directory => Root.Value;

    /// <summary>Gets a value indicating whether tests run under CI.</summary>
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Returns the path of a shared model (folder or file); a missing model fails the calling test.</summary>
    public static string Get(string name)
    {
        var path = Path.Combine(Root.Value, name);
        if (System.IO.Directory.Exists(path) || File.Exists(path))
        {
            return path;
        }

        throw new InvalidOperationException($"Test model '{name}' was not found at '{path}'. Set INFERA_TEST_MODELS to the folder holding the shared models.");
    }

    /// <summary>Reads a golden text file of the stories260K model.</summary>
    public static string Golden(string fileName) => File.ReadAllText(Path.Combine(Get(Stories260K), fileName));

    private static string FindRoot()
    {
        var configured = Environment.GetEnvironmentVariable("INFERA_TEST_MODELS");
        return !string.IsNullOrWhiteSpace(configured)
            ? Path.GetFullPath(configured)
            : Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "models"));
    }
}
