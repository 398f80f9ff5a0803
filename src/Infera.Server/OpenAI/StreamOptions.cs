namespace Infera.Server;

/// <summary><c>stream_options</c>: with <c>include_usage</c>, a final chunk with empty <c>choices</c> carries the usage.</summary>
internal sealed class StreamOptions
{
    public bool? IncludeUsage { get; set; }
}
