namespace Infera.Models;

/// <summary>Reports the progress of a pull or create: a status line and, while a file downloads or a model converts, how far it is.</summary>
/// <param name="Status">What is happening, in Ollama's words where they exist: <c>pulling manifest</c>, <c>downloading</c>, <c>waiting for another pull</c>, <c>verifying sha256 digest</c>, <c>converting</c>, <c>writing manifest</c>, <c>success</c>.</param>
/// <param name="File">The repository path being downloaded, or <see langword="null"/>.</param>
/// <param name="Completed">The bytes (or, while converting, thousandths) done.</param>
/// <param name="Total">The bytes (or thousandths) in all, or <see langword="null"/> when not known.</param>
/// <param name="Digest">The file's digest (<c>sha256:…</c>) while it downloads, or <see langword="null"/>.</param>
public sealed record ModelPullProgress(string Status, string? File = null, long Completed = 0, long? Total = null, string? Digest = null)
{
    /// <summary>Gets the fraction done, from 0 to 1, or <see langword="null"/> when the total is not known.</summary>
    public double? Fraction => Total is > 0 ? Math.Clamp((double)Completed / Total.Value, 0, 1) : null;
}
