namespace Infera;

/// <summary>A kept sequence taken for one request, and how many of the request's prompt tokens it already holds.</summary>
internal readonly record struct PrefixCacheHit(CachedSequence Sequence, int CachedTokens);
