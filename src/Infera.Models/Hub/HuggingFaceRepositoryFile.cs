namespace Infera.Models;

/// <summary>Describes one file of a Hub repository at a commit.</summary>
public sealed class HuggingFaceRepositoryFile
{
    /// <summary>Gets the path in the repository, with <c>/</c> separators.</summary>
    public required string Path { get; init; }

    /// <summary>Gets the size in bytes, or <see langword="null"/> when the listing did not say.</summary>
    public long? Size { get; init; }

    /// <summary>Gets the git blob id (SHA-1), or <see langword="null"/>.</summary>
    public string? BlobId { get; init; }

    /// <summary>Gets the SHA-256 of the content for files stored with LFS, or <see langword="null"/>.</summary>
    public string? Sha256 { get; init; }
}
