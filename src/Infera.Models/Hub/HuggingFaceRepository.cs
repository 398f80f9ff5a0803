namespace Infera.Models;

/// <summary>Describes a Hub repository at one commit: what <c>/api/models/{repo}/revision/{revision}</c> answered, or what the cache holds offline.</summary>
public sealed class HuggingFaceRepository
{
    /// <summary>Gets the repository id (<c>org/name</c>).</summary>
    public required string Id { get; init; }

    /// <summary>Gets the revision asked for (branch, tag or commit).</summary>
    public required string Revision { get; init; }

    /// <summary>Gets the 40-hex commit the revision pointed to.</summary>
    public required string Commit { get; init; }

    /// <summary>Gets the files at that commit.</summary>
    public required IReadOnlyList<HuggingFaceRepositoryFile> Files { get; init; }

    /// <summary>Gets the licence id from the repository's card or tags (for example <c>apache-2.0</c>), or <see langword="null"/>.</summary>
    public string? License { get; init; }
}
