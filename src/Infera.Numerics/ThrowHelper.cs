using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Infera.Numerics;

/// <summary>Throws for the hot paths, kept out of line so that callers stay small.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowDestinationTooShort(string parameterName) =>
        throw new ArgumentException("Destination is too short.", parameterName);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowEmpty(string parameterName) =>
        throw new ArgumentException("The span must not be empty.", parameterName);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowLengthMismatch(string parameterName, int expected, int actual) =>
        throw new ArgumentException($"Expected a length of {expected}, got {actual}.", parameterName);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowArgument(string parameterName, string message) =>
        throw new ArgumentException(message, parameterName);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowOverlap(string parameterName) =>
        throw new ArgumentException("The destination partly overlaps the source; it must be the same span or not overlap at all.", parameterName);

    public static void ThrowIfPartialOverlap(ReadOnlySpan<float> source, Span<float> destination)
    {
        if (source.Overlaps(destination, out var offset) && offset != 0)
        {
            ThrowOverlap(nameof(destination));
        }
    }
}
