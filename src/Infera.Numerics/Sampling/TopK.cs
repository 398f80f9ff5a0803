using System.Runtime.CompilerServices;

namespace Infera.Numerics;

/// <summary>Top-k selection by partial selection (a k-element heap behind a vectorized threshold scan), never a full sort.</summary>
/// <remarks>
/// Values are ordered by value, larger first, and equal values by index, lower first; so the result is exactly the
/// first <c>k</c> entries of a stable descending sort. The scan compares whole vectors with the heap's smallest
/// kept value and only visits the rare elements that beat it, so the cost is close to one pass over the span.
/// The order of NaN values is unspecified.
/// </remarks>
public static class TopK
{
    /// <summary>Writes the indices of the <paramref name="k"/> largest values, largest first, into <paramref name="destination"/>.</summary>
    /// <param name="values">The values (logits or probabilities).</param>
    /// <param name="k">The number of values to keep; must be &gt;= 0. Values larger than the span keep every element.</param>
    /// <param name="destination">Receives the indices; at least <c>min(k, values.Length)</c> long.</param>
    /// <returns>The number of indices written, <c>min(k, values.Length)</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public static int Select(ReadOnlySpan<float> values, int k, Span<int> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        var count = Math.Min(k, values.Length);
        if (destination.Length < count)
        {
            ThrowHelper.ThrowDestinationTooShort(nameof(destination));
        }

        if (count == 0)
        {
            return 0;
        }

        var heap = destination[..count];
        for (var i = 0; i < count; i++)
        {
            heap[i] = i;
        }

        // Min-heap on (value, -index): the root is the worst kept element.
        for (var i = (count / 2) - 1; i >= 0; i--)
        {
            SiftDown(values, heap, i, count);
        }

        var position = count;
        while (position < values.Length)
        {
            var threshold = values[heap[0]];
            var offset = FirstGreaterKernel.IndexOfFirstGreater(values[position..], threshold);
            if (offset < 0)
            {
                break;
            }

            // A later index beats the root only when strictly greater, because on equal values the root's
            // lower index wins; that is why the scan tests "greater than" and not "at least".
            var index = position + offset;
            heap[0] = index;
            SiftDown(values, heap, 0, count);
            position = index + 1;
        }

        // Heap sort: repeatedly move the worst element to the end, leaving the best first.
        for (var end = count - 1; end > 0; end--)
        {
            (heap[0], heap[end]) = (heap[end], heap[0]);
            SiftDown(values, heap, 0, end);
        }

        return count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsWorse(ReadOnlySpan<float> values, int a, int b)
    {
        var va = values[a];
        var vb = values[b];
        return va < vb || (!(va > vb) && a > b);
    }

    private static void SiftDown(ReadOnlySpan<float> values, Span<int> heap, int node, int length)
    {
        var item = heap[node];
        while (true)
        {
            var child = (2 * node) + 1;
            if (child >= length)
            {
                break;
            }

            if (child + 1 < length && IsWorse(values, heap[child + 1], heap[child]))
            {
                child++;
            }

            if (!IsWorse(values, heap[child], item))
            {
                break;
            }

            heap[node] = heap[child];
            node = child;
        }

        heap[node] = item;
    }
}
