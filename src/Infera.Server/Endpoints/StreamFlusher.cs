using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Infera.Server;

/// <summary>
/// Flushes a streamed response (server-sent events or NDJSON lines) as soon as no further update is ready: the updates a
/// stream has fallen behind on go out in one flush (one send, one wake-up of the client) instead of one each. A reader
/// that keeps up gets every update as soon as it is made; one that has fallen behind still gets a flush at least every
/// <see cref="MaxEvents"/> events or <see cref="MaxDelay"/>, so that a busy server never holds a whole answer back.
/// </summary>
/// <remarks>
/// With every core busy (8 concurrent requests on 2 processors), the threads that deliver tokens fall behind the model's
/// steps; sending what has piled up in one write saves most of the per-token cost of sending and of the client's reading
/// (docs/benchmarks/serving.md).
/// </remarks>
internal sealed class StreamFlusher(HttpResponse response, CancellationToken cancellationToken)
{
    /// <summary>The most events one flush holds.</summary>
    public const int MaxEvents = 32;

    private static readonly long MaxDelayTicks = Stopwatch.Frequency / 50;

    private int _pending;
    private long _firstPending;

    /// <summary>Gets the longest an event waits for a flush while more keep coming.</summary>
    public static TimeSpan MaxDelay => TimeSpan.FromSeconds((double)MaxDelayTicks / Stopwatch.Frequency);

    /// <summary>Gets the response the events are written to.</summary>
    public HttpResponse Response => response;

    /// <summary>Counts one event written to <see cref="Response"/> and not yet flushed.</summary>
    public void Wrote()
    {
        if (_pending++ == 0)
        {
            _firstPending = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>Moves to the next update, flushing what was written first unless that update is already there.</summary>
    public async ValueTask<bool> MoveNextAsync<T>(IAsyncEnumerator<T> updates)
    {
        var next = updates.MoveNextAsync();
        if (_pending > 0 && (!next.IsCompleted || _pending >= MaxEvents || Stopwatch.GetTimestamp() - _firstPending >= MaxDelayTicks))
        {
            _pending = 0;
            await response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        return await next.ConfigureAwait(false);
    }
}
