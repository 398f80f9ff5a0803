using System.Text;

namespace Infera.Models;

/// <summary>Paths of <c>huggingface_hub</c>'s cache layout for model repositories.</summary>
internal static class HuggingFaceCache
{
    public static string RepositoryFolderName(string repoId) => "models--" + repoId.Replace("/", "--", StringComparison.Ordinal);

    public static string RepositoryDirectory(string cache, string repoId) => Path.Combine(cache, RepositoryFolderName(repoId));

    public static string BlobPath(string cache, string repoId, string etag) => Path.Combine(RepositoryDirectory(cache, repoId), "blobs", etag);

    public static string SnapshotDirectory(string cache, string repoId, string commit) => Path.Combine(RepositoryDirectory(cache, repoId), "snapshots", commit);

    public static string SnapshotPath(string cache, string repoId, string commit, string path) => Path.Combine(SnapshotDirectory(cache, repoId, commit), path.Replace('/', Path.DirectorySeparatorChar));

    public static string RefPath(string cache, string repoId, string revision) => Path.Combine(RepositoryDirectory(cache, repoId), "refs", revision.Replace('/', Path.DirectorySeparatorChar));

    public static string NoExistPath(string cache, string repoId, string commit, string path) => Path.Combine(RepositoryDirectory(cache, repoId), ".no_exist", commit, path.Replace('/', Path.DirectorySeparatorChar));

    public static string LockPath(string cache, string repoId, string etag) => Path.Combine(cache, ".locks", RepositoryFolderName(repoId), etag + ".lock");

    /// <summary>The relative target of a snapshot entry: one <c>../</c> per folder below the repository folder, then <c>blobs/etag</c>.</summary>
    public static string RelativeBlobTarget(string path, string etag)
    {
        int depth = 2 + path.Count(c => c == '/');
        var builder = new StringBuilder();
        for (int i = 0; i < depth; i++)
        {
            builder.Append("..").Append(Path.DirectorySeparatorChar);
        }

        return builder.Append("blobs").Append(Path.DirectorySeparatorChar).Append(etag).ToString();
    }

    /// <summary>Writes <c>refs/{revision}</c> atomically (temporary file, then rename).</summary>
    public static void WriteRef(string cache, string repoId, string revision, string commit)
    {
        var path = RefPath(cache, repoId, revision);
        if (File.Exists(path) && File.ReadAllText(path).Trim() == commit)
        {
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        File.WriteAllText(temp, commit);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Points the snapshot entry at the blob: a relative symbolic link, or a copy where links are not allowed.</summary>
    public static void LinkSnapshot(string cache, string repoId, string commit, string path, string etag)
    {
        var entry = SnapshotPath(cache, repoId, commit, path);
        Directory.CreateDirectory(Path.GetDirectoryName(entry)!);
        var blob = BlobPath(cache, repoId, etag);
        if (new FileInfo(entry) is { Exists: true, LinkTarget: { } target } && Path.GetFullPath(Path.Combine(Path.GetDirectoryName(entry)!, target)) == Path.GetFullPath(blob))
        {
            return;
        }

        var temp = entry + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        try
        {
            File.CreateSymbolicLink(temp, RelativeBlobTarget(path, etag));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            File.Copy(blob, temp, overwrite: true);
        }

        File.Move(temp, entry, overwrite: true);
    }
}
