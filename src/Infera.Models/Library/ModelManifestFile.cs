namespace Infera.Models;

/// <summary>Represents one file of a library model or of its source, with its size and SHA-256 digest.</summary>
public sealed class ModelManifestFile
{
    /// <summary>Gets or sets the path relative to the model folder (or the source repository), with <c>/</c> separators.</summary>
    public string Path { get; set; } = string.Empty;

    /// <summary>Gets or sets the size in bytes.</summary>
    public long Size { get; set; }

    /// <summary>Gets or sets the SHA-256 digest of the content, as 64 lower-case hex digits; <see langword="null"/> when not known (a source file kept in git, identified by its blob id).</summary>
    public string? Sha256 { get; set; }

    /// <summary>Gets or sets the Hub's etag of a source file (the git blob SHA-1 or the LFS SHA-256), or <see langword="null"/>.</summary>
    public string? Etag { get; set; }
}
