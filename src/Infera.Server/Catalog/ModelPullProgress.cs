namespace Infera.Server;

/// <summary>One step of a pull or create, in the shape of Ollama's progress lines.</summary>
/// <param name="Status">What is happening, for example <c>pulling manifest</c>, <c>verifying sha256 digest</c> or <c>success</c>.</param>
/// <param name="Digest">The file being transferred, or <see langword="null"/>.</param>
/// <param name="Total">The bytes to transfer, or <see langword="null"/>.</param>
/// <param name="Completed">The bytes transferred so far, or <see langword="null"/>.</param>
public sealed record ModelPullProgress(string Status, string? Digest = null, long? Total = null, long? Completed = null);
