namespace Infera.Models;

/// <summary>The library's layout under <c>INFERA_HOME</c>: <c>manifests/&lt;name&gt;/&lt;tag&gt;.json</c>, <c>models/&lt;id&gt;/</c> (ready folders, shared by names), <c>tmp/</c> (staging) and <c>locks/</c>.</summary>
internal sealed class LibraryPaths(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    public string Manifests => Path.Combine(Root, "manifests");

    public string Models => Path.Combine(Root, "models");

    public string Temp => Path.Combine(Root, "tmp");

    public string Locks => Path.Combine(Root, "locks");

    public string Manifest(ModelName name) => Path.Combine([Manifests, .. name.RepositoryParts, name.Tag + ".json"]);

    public string Model(string id) => Path.Combine(Models, id);

    public string ModelLock(string id) => Path.Combine(Locks, "model-" + id + ".lock");

    public string NamesLock => Path.Combine(Locks, "names.lock");

    public static string DefaultRoot() =>
        Environment.GetEnvironmentVariable("INFERA_HOME") is { Length: > 0 } home
            ? home
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "infera");
}
