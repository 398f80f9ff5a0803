namespace Infera.ModelBuilder.Tests;

/// <summary>Locates the shared test models: INFERA_TEST_MODELS, or ../shared/models beside the repository root.</summary>
internal static class TestModels
{
    private static readonly Lazy<string> Root = new(FindRoot);

    public static string Stories260K => Require("stories260K");

    public static string Stories260KOnnx => Require("stories260K-onnx");

    public static string Stories260KGqa => Require("stories260K-gqa");

    public static string Path(string name) => Require(name);

    private static string Require(string name)
    {
        string path = System.IO.Path.Combine(Root.Value, name);
        if (!Directory.Exists(path))
        {
            // Under CI a missing model fails the test; locally too, with a message that says where it was looked for.
            throw new InvalidOperationException($"Test model '{name}' not found at {path}. Set INFERA_TEST_MODELS to the folder holding the shared models.");
        }

        return path;
    }

    private static string FindRoot()
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable("INFERA_TEST_MODELS");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return System.IO.Path.GetFullPath(fromEnvironment);
        }

        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(System.IO.Path.Combine(directory.FullName, "Sdk.sln")))
        {
            directory = directory.Parent;
        }

        if (directory is null)
        {
            throw new InvalidOperationException("Cannot find the repository root (the folder holding Sdk.sln) above " + AppContext.BaseDirectory);
        }

        return System.IO.Path.GetFullPath(System.IO.Path.Combine(directory.FullName, "..", "shared", "models"));
    }
}
